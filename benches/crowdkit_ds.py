"""crowd-kit's DawidSkene on the files `cargo bench --bench aggregate` writes (DIR holds
answers.csv, truth.csv and gold.csv), for the side-by-side figures in the README.
Prints one line per run: seconds of the fit, accuracy, peak memory of this process."""

import resource
import sys
import time

import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def accuracy(predicted, truth, skip=None):
    truth = truth if skip is None else truth[~truth.index.isin(skip)]
    joined = truth.to_frame("truth").join(predicted.rename("predicted"), how="left")
    return float((joined["truth"] == joined["predicted"]).mean())


def main(folder):
    start = time.perf_counter()
    answers = pd.read_csv(f"{folder}/answers.csv", dtype=str)
    truth = pd.read_csv(f"{folder}/truth.csv", dtype=str).set_index("task")["label"]
    gold = pd.read_csv(f"{folder}/gold.csv", dtype=str).set_index("task")["label"]
    print(f"crowdkit load_s={time.perf_counter() - start:.3f} answers={len(answers)}")

    start = time.perf_counter()
    mv = MajorityVote().fit_predict(answers)
    print(f"crowdkit mv fit_s={time.perf_counter() - start:.3f} accuracy={accuracy(mv, truth):.6f}")

    start = time.perf_counter()
    ds = DawidSkene(n_iter=100, tol=1e-5).fit_predict(answers)
    fit = time.perf_counter() - start
    print(f"crowdkit ds fit_s={fit:.3f} accuracy={accuracy(ds, truth):.6f} peak_mib={peak_mib():.0f}")

    start = time.perf_counter()
    ds_gold = DawidSkene(n_iter=100, tol=1e-5).fit_predict(answers, true_labels=gold)
    fit = time.perf_counter() - start
    print(
        f"crowdkit ds + gold fit_s={fit:.3f} accuracy={accuracy(ds_gold, truth, skip=gold.index):.6f}"
        f" (no-gold ds on the same tasks {accuracy(ds, truth, skip=gold.index):.6f})"
    )


if __name__ == "__main__":
    main(sys.argv[1])
