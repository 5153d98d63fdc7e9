//! PostgreSQL beside SQLite in the same run: `server_answers_per_s` and `sync_p99_ms`
//! (1,000 clients) with 1 and 3 instances on one database, each instance its own store,
//! connection pool, runtime and listener, behind a round-robin TCP balancer when there
//! are three; and pgbench's simple-update rate on the same database as the raw ceiling.
//! Needs `KAZI_TEST_PG`; without it the part says loudly that it skipped.

use std::process::Command;

use anyhow::{Context, Result};

use crate::balancer::Balancer;
use crate::common::{BenchServer, Report, median, quantile};
use crate::load;
use crate::pg::{self, PgSchema};
use kazi::server::ServerConfig;

const PGBENCH_SECS: &str = "10";
const PGBENCH_CLIENTS: &str = "8";

pub fn run(report: &mut Report, titles: &[String]) -> Result<()> {
    let Some(base) = pg::test_database("the PostgreSQL benchmark") else {
        println!("  SKIPPED: set KAZI_TEST_PG=postgres://... to measure PostgreSQL");
        return Ok(());
    };
    let tps = pgbench(&base)?;
    report.add("pgbench_simple_update_tps", tps, "tx/s");
    for instances in [1, 3] {
        println!("  -- {instances} instance(s): throughput");
        let schema = PgSchema::create(&base);
        let fleet = Fleet::start(&schema, instances, load::unlimited())?;
        let per_s = load::answers_per_s(&fleet.servers[0], &fleet.url, titles)?;
        report.add(
            &format!("pg{instances}_server_answers_per_s"),
            per_s,
            "answers/s",
        );
        println!("  answers/s vs pgbench tx/s: {:.0}%", 100.0 * per_s / tps);
        drop(fleet);
        drop(schema);

        println!("  -- {instances} instance(s): 1,000 clients at worker pace");
        let schema = PgSchema::create(&base);
        let fleet = Fleet::start(&schema, instances, ServerConfig::default())?;
        let steady = load::sync_latencies(&fleet.servers[0], &fleet.url, titles)?;
        report.add(&format!("pg{instances}_sync_p50_ms"), median(&steady), "ms");
        report.add(
            &format!("pg{instances}_sync_p99_ms"),
            quantile(&steady, 0.99),
            "ms",
        );
        drop(fleet);
        drop(schema);
    }
    Ok(())
}

/// Instances on one database, and the address clients use.
struct Fleet {
    servers: Vec<BenchServer>,
    url: String,
    _balancer: Option<Balancer>,
}

impl Fleet {
    fn start(schema: &PgSchema, instances: usize, config: ServerConfig) -> Result<Fleet> {
        let servers = (0..instances)
            .map(|_| BenchServer::start_on(&schema.url, tempfile::tempdir()?, config.clone()))
            .collect::<Result<Vec<_>>>()?;
        if instances == 1 {
            let url = servers[0].url();
            return Ok(Fleet {
                servers,
                url,
                _balancer: None,
            });
        }
        let balancer = Balancer::start(servers.iter().map(|s| s.addr).collect());
        Ok(Fleet {
            url: format!("http://{}", balancer.addr),
            servers,
            _balancer: Some(balancer),
        })
    }
}

/// pgbench's built-in simple-update script on a schema of its own: one small
/// transaction per statement group, committed with the server's durability settings.
fn pgbench(base: &str) -> Result<f64> {
    let schema = PgSchema::create(base);
    let init = Command::new("pgbench")
        .args(["-i", "-q", "-s", "1", &schema.url])
        .output()
        .context("cannot run pgbench (apt-get install postgresql-contrib)")?;
    anyhow::ensure!(
        init.status.success(),
        "pgbench -i failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-b",
            "simple-update",
            "-c",
            PGBENCH_CLIENTS,
            "-j",
            "2",
            "-T",
            PGBENCH_SECS,
            &schema.url,
        ])
        .output()
        .context("cannot run pgbench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .with_context(|| format!("no tps line in pgbench's output: {stdout}"))?;
    println!("  pgbench simple-update: {PGBENCH_CLIENTS} clients, {PGBENCH_SECS} s");
    Ok(tps)
}
