"""Training from an HDF5 file 4x larger than the process may map; sparse coding on Dask.

The memory limit is ``RLIMIT_AS`` (address space), set in a child process
before it imports numpy: every mapping counts, libraries and thread stacks
included, so the limit must exceed the interpreter's own ~650 MB of
address space (numba, LLVM, BLAS, h5py). The child runs with
``MALLOC_ARENA_MAX=2`` (glibc reserves 64 MB of address space per thread
arena otherwise). The file is 4x the limit.

Printed:

- one CD-1 epoch of a 784->500 BernoulliRBM (batch 100) over the file in
  the child: its peak RSS, the peak minus the RSS before training
  (interpreter, libraries, compiled kernels) against the model plus two
  chunks (goal <= 1.5x), and its rows per second against the same epoch
  on rows in memory in this process (goal >= 0.8x; measured before and
  after the child, averaged);
- greedy 784-500-500 pretraining (a ``DBN`` without labels: two
  BernoulliRBMs, one epoch each, the second reading the first's codes
  chunk by chunk) from the same file under the same limit;
- ``sparse_encode`` of 8x8 patches on a 2-worker ``LocalCluster``
  (processes, one thread each) against in-process on one thread: the
  same codes, and the throughput per core ratio (if dask is installed).

BLAS runs on one thread throughout: on the shared 2-core machine two
BLAS threads under load made the RBM epoch 10x slower (docs/ARCHITECTURE.md,
"Threads").
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from ._runner import Goal, machine_summary, setting

N_FEATURES = 784


def _write_file(path, n_rows, seed=0):
    """Binary 28x28 'images': pixels on with a smooth per-pixel rate (a
    blob in the middle, as digits), written in blocks."""
    import h5py

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    rate = (0.6 * np.exp(-((yy - 14) ** 2 + (xx - 14) ** 2) / 60.0)).ravel().astype(np.float32)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("X", shape=(n_rows, N_FEATURES), dtype=np.float32,
                              chunks=(1024, N_FEATURES))
        block = 1 << 15
        for start in range(0, n_rows, block):
            stop = min(start + block, n_rows)
            ds[start:stop] = (rng.random((stop - start, N_FEATURES), dtype=np.float32)
                              < rate).astype(np.float32)


def _status_mb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024


def _model_bytes(est):
    def size(v):
        if isinstance(v, np.ndarray):
            return v.nbytes
        if isinstance(v, dict):
            return sum(size(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return sum(size(x) for x in v)
        return 0
    return sum(size(v) for v in vars(est).values())


def _worker(task, path, limit, chunk):
    """In the child: train under RLIMIT_AS and print one JSON line."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import h5py
    from threadpoolctl import threadpool_limits

    from deepzoo import DBN, BernoulliRBM
    from deepzoo.utils.streaming import RowStream, chunk_bytes

    def rbm():
        return BernoulliRBM(500, batch_size=100, n_iter=1, random_state=0)

    def dbn():
        return DBN((500, 500), batch_size=100, n_iter=1, random_state=0)

    with threadpool_limits(1):
        # warm up: the compiled kernels are loaded before the baseline
        warm = np.zeros((200, N_FEATURES), np.float32)
        dbn().fit(warm)
        # reset the peak (VmHWM) to the current RSS: the warm-up's own peak
        # is not the training's
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        base = _status_mb("VmRSS")
        with h5py.File(path, "r") as f, chunk_bytes(chunk):
            X = f["X"]
            chunk_rows = RowStream(X, "", np.float32, batch_size=100).chunk_rows
            t0 = time.perf_counter()
            est = (rbm() if task == "epoch" else dbn()).fit(X)
            model = _model_bytes(est)
            seconds = time.perf_counter() - t0
            n = X.shape[0]
    peak = _status_mb("VmHWM")
    print(json.dumps({"seconds": seconds, "rows": n, "base_mb": base, "peak_mb": peak,
                      "model_mb": model / 2 ** 20,
                      "two_chunks_mb": 2 * chunk_rows * N_FEATURES * 4 / 2 ** 20}))


def _child(task, path, limit, chunk):
    env = dict(os.environ, MALLOC_ARENA_MAX="2")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.out_of_core", "--worker", task, path, str(limit),
         str(chunk)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"the {task} child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _memory_epoch(X):
    from threadpoolctl import threadpool_limits

    from deepzoo import BernoulliRBM

    with threadpool_limits(1):
        t0 = time.perf_counter()
        BernoulliRBM(500, batch_size=100, n_iter=1, random_state=0).fit(X)
        return X.shape[0] / (time.perf_counter() - t0)


def _out_of_core(args):
    limit = setting(args, full=1024, quick=1024, smoke=1024) * 2 ** 20
    file_bytes = 4 * limit if not args.smoke else 4 * 2 ** 20
    chunk = setting(args, full=64, quick=64, smoke=1) * 2 ** 20
    n_rows = file_bytes // (N_FEATURES * 4)
    folder = tempfile.mkdtemp(prefix="deepzoo-ooc-")
    path = os.path.join(folder, "data.h5")
    try:
        t0 = time.perf_counter()
        _write_file(path, n_rows)
        print(f"\n== out of core: RLIMIT_AS = {limit / 2 ** 20:.0f} MiB on the training "
              f"process; file {os.path.getsize(path) / 2 ** 30:.2f} GiB "
              f"({n_rows} x {N_FEATURES} float32, {os.path.getsize(path) / limit:.1f}x the "
              f"limit, written in {time.perf_counter() - t0:.0f} s); chunks of "
              f"{chunk / 2 ** 20:.0f} MiB; BLAS on one thread", flush=True)
        import h5py
        n_mem = setting(args, full=30000, quick=10000, smoke=2000)
        with h5py.File(path, "r") as f:
            in_memory = f["X"][:n_mem]
        _memory_epoch(in_memory[:200])  # compiled kernels loaded
        before = _memory_epoch(in_memory)
        epoch = _child("epoch", path, limit, chunk)
        after = _memory_epoch(in_memory)
        streamed = epoch["rows"] / epoch["seconds"]
        reference = (before + after) / 2
        budget = epoch["model_mb"] + epoch["two_chunks_mb"]
        grown = epoch["peak_mb"] - epoch["base_mb"]
        print(f"CD-1 epoch 784->500 from the file: {epoch['seconds']:.1f} s, "
              f"{streamed:.0f} rows/s; from memory ({n_mem} rows, before/after): "
              f"{before:.0f}/{after:.0f} rows/s; throughput ratio {streamed / reference:.2f} "
              "(goal >= 0.8)")
        print(f"peak RSS {epoch['peak_mb']:.0f} MB; before training {epoch['base_mb']:.0f} MB "
              f"(interpreter, libraries, kernels); growth {grown:.0f} MB against model "
              f"{epoch['model_mb']:.1f} MB + two chunks {epoch['two_chunks_mb']:.0f} MB = "
              f"{budget:.0f} MB: ratio {grown / budget:.2f} (goal <= 1.5)", flush=True)
        greedy = _child("greedy", path, limit, chunk)
        print(f"greedy DBN 784-500-500 (two BernoulliRBMs, one epoch each) from the "
              f"file under the same limit: {greedy['seconds']:.1f} s; peak RSS "
              f"{greedy['peak_mb']:.0f} MB, growth {greedy['peak_mb'] - greedy['base_mb']:.0f} "
              f"MB against models {greedy['model_mb']:.1f} MB + two chunks "
              f"{greedy['two_chunks_mb']:.0f} MB", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [Goal("out_of_core", "CD-1 epoch 784-500 from an HDF5 file",
                 "throughput / in memory", streamed / reference, 0.8, at_most=False),
            Goal("out_of_core", "CD-1 epoch 784-500 from an HDF5 file",
                 "memory growth / (model + two chunks)", grown / budget, 1.5)]


def _dask(args):
    try:
        from dask.distributed import Client, LocalCluster, wait
    except ImportError:
        print("\n== sparse_encode on Dask: dask not installed (pip install -e '.[dask]')")
        return []
    import dask.array as da
    import numba
    from threadpoolctl import threadpool_limits

    from deepzoo import sparse_encode

    n = setting(args, full=1_000_000, quick=100_000, smoke=2_000)
    rng = np.random.default_rng(0)
    D = rng.standard_normal((64, 64))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    # patches with sparse structure in the dictionary, plus noise
    codes = np.where(rng.random((n, 64)) < 0.05, rng.standard_normal((n, 64)), 0.0)
    X = codes @ D + 0.05 * rng.standard_normal((n, 64))
    alpha = 0.1
    # One core in-process and one per worker: BLAS and numba on one thread
    # (the solver's row-parallel twin would otherwise use every core).
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            sparse_encode(X[:max(1, n // 20)], D, alpha)  # the kernels of a block loaded
            t0 = time.perf_counter()
            local = sparse_encode(X, D, alpha)
            t_local = time.perf_counter() - t0
    finally:
        numba.set_num_threads(threads)
    one_thread = {name: "1" for name in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, env=one_thread,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        block = max(1, n // 20)
        # The patches are on the workers before the clock starts, and the
        # codes stay there (persist), as in a pipeline that goes on to use
        # them: the encoding's throughput, not the client's network copy of
        # 2 x n x 64 doubles, which is timed apart.
        Xd = client.persist(da.from_array(X, chunks=(block, 64)))
        wait(Xd)
        # one untimed pass: every worker loads (or compiles) the kernels a
        # block of this size calls, as the in-process run did above
        warm = client.persist(sparse_encode(Xd, D, alpha))
        wait(warm)
        del warm  # released, so the timed pass computes the codes again
        time.sleep(0.5)
        t0 = time.perf_counter()
        codes_d = client.persist(sparse_encode(Xd, D, alpha))
        wait(codes_d)
        t_cluster = time.perf_counter() - t0
        t0 = time.perf_counter()
        remote = codes_d.compute()
        t_gather = time.perf_counter() - t0
    same = np.array_equal(local, remote)
    per_core = (n / t_cluster / 2) / (n / t_local)
    print(f"\n== sparse_encode of {n} 8x8 patches (64 atoms, alpha={alpha}, feature-sign): "
          f"in-process one thread {t_local:.1f} s; LocalCluster 2 workers x 1 thread "
          f"{t_cluster:.1f} s (codes kept on the workers; gathering them to the client "
          f"{t_gather:.1f} s more); same codes: {same}; throughput per core ratio "
          f"{per_core:.2f} (goal >= 0.8)", flush=True)
    return [Goal("out_of_core", f"sparse_encode on a 2-worker LocalCluster, {n} patches",
                 "throughput per core / one thread", per_core, 0.8, at_most=False)]


def run(args):
    print(machine_summary(), flush=True)
    return _out_of_core(args) + _dask(args)


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
