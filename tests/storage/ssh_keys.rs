//! SSH public keys on every backend: several per user, one user per key, each signing in
//! as a device of its own; removing a key or revoking the user signs it out, its leases
//! back in the pool; adding a revoked key again lets it in as a new device.

use super::*;
use kazi::server::store::{NewSshKey, SshKeyAdded};

fn key(n: u8) -> NewSshKey {
    NewSshKey {
        fingerprint: format!("SHA256:fingerprint-{n}"),
        public_key: format!("ssh-ed25519 AAAAkey{n}"),
        comment: format!("laptop {n}"),
    }
}

fn reviewer(store: &dyn Store, name: &str) {
    store
        .put_user(name, Role::Reviewer, &hash(name, 1), NOW + 86_400, NOW)
        .unwrap();
}

#[test]
fn keys_sign_in_as_devices_until_removed_or_revoked() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 2);
        reviewer(&*store, "rehema");
        let added = store
            .add_ssh_key("rehema", &key(1), &hash("k1", 3), NOW)
            .unwrap();
        let SshKeyAdded::New { device_id } = added else {
            panic!("{added:?}")
        };
        let again = store
            .add_ssh_key("rehema", &key(1), &hash("k1b", 3), NOW)
            .unwrap();
        assert_eq!(again, SshKeyAdded::AlreadyThere { device_id });
        assert!(matches!(
            store
                .add_ssh_key("rehema", &key(2), &hash("k2", 3), NOW + 1)
                .unwrap(),
            SshKeyAdded::New { .. }
        ));

        let keys = store.ssh_keys("rehema").unwrap();
        let fps: Vec<_> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
        assert_eq!(fps, ["SHA256:fingerprint-1", "SHA256:fingerprint-2"]);
        assert_eq!(keys[0].comment, "laptop 1");
        assert_eq!((keys[0].added, keys[0].revoked), (NOW, None));

        let who = store
            .ssh_principal("SHA256:fingerprint-1")
            .unwrap()
            .expect("signs in");
        assert_eq!(
            (who.user.as_str(), who.role, who.device_id),
            ("rehema", Role::Reviewer, device_id)
        );
        assert_eq!(store.ssh_principal("SHA256:unknown").unwrap(), None);
        // The key's device is a device like any: it shows in the user list.
        let devices = &store.users().unwrap()[0].devices;
        assert!(
            devices
                .iter()
                .any(|d| d.id == device_id && d.name.contains("fingerprint-1"))
        );

        // One key, one user.
        reviewer(&*store, "baraka");
        let err = store
            .add_ssh_key("baraka", &key(1), &hash("k1c", 3), NOW)
            .unwrap_err();
        assert!(
            matches!(err, StoreError::KeyTaken { ref owner, .. } if owner == "rehema"),
            "{err:?}"
        );

        // A key's session leases as its device; removing the key gives the tasks back.
        let held = store.sync(&who, want(2), NOW).unwrap().leases;
        assert_eq!(held.len(), 2);
        store
            .remove_ssh_key("rehema", "SHA256:fingerprint-1", NOW + 2)
            .unwrap();
        assert_eq!(store.ssh_principal("SHA256:fingerprint-1").unwrap(), None);
        assert_books(backend);
        let err = store
            .remove_ssh_key("rehema", "SHA256:fingerprint-1", NOW)
            .unwrap_err();
        assert!(matches!(err, StoreError::NoKey { .. }), "{err:?}");
        assert_eq!(store.ssh_keys("rehema").unwrap().len(), 1);

        // Revoking the user signs out their keys too; adding the key again lets it in.
        store.revoke_devices("rehema", None, NOW + 3).unwrap();
        assert_eq!(store.ssh_principal("SHA256:fingerprint-2").unwrap(), None);
        assert_eq!(store.ssh_keys("rehema").unwrap()[0].revoked, Some(NOW + 3));
        let renewed = store
            .add_ssh_key("rehema", &key(2), &hash("k2b", 3), NOW + 4)
            .unwrap();
        let SshKeyAdded::Renewed {
            device_id: new_device,
        } = renewed
        else {
            panic!("{renewed:?}")
        };
        let back = store
            .ssh_principal("SHA256:fingerprint-2")
            .unwrap()
            .expect("back in");
        assert_eq!(back.device_id, new_device);

        for err in [
            store.ssh_keys("nobody").unwrap_err(),
            store
                .add_ssh_key("nobody", &key(9), &hash("k9", 3), NOW)
                .unwrap_err(),
            store.remove_ssh_key("nobody", "SHA256:x", NOW).unwrap_err(),
        ] {
            assert!(
                matches!(err, StoreError::NoUser(ref u) if u == "nobody"),
                "{err:?}"
            );
        }
    });
}
