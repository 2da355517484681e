import gzip
import hashlib
import http.server
import re
import runpy
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from deepzoo import datasets

ROOT = Path(__file__).resolve().parents[1]

# Label counts from ../shared/data/README.md.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads the real user cache or Debian folder or reaches a real
    host: the cache moves to tmp, every mirror points at a closed local port,
    and retries do not sleep."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "_DEBIAN_FASHION_MNIST", tmp_path / "debian")
    monkeypatch.setattr(
        datasets, "MIRRORS", {key: ("http://127.0.0.1:9/",) for key in datasets.MIRRORS}
    )
    monkeypatch.setattr(datasets, "_BACKOFF", 0.0)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def _idx_bytes(array):
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}
    array = np.asarray(array)
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write_split(folder, n, prefix="t10k", offset=0):
    """A tiny valid IDX image/label pair of n samples."""
    folder.mkdir(parents=True, exist_ok=True)
    images = ((np.arange(n * 784) + offset) % 256).astype(np.uint8).reshape(n, 28, 28)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
        _idx_bytes(np.arange(n, dtype=np.uint8) % 10)
    )
    return images


def _files_under(path):
    return sorted(p.relative_to(path) for p in Path(path).rglob("*") if p.is_file())


# --------------------------------------------------------------------------
# Real files in $DEEPZOO_DATA


def test_fashion_mnist_real_files(data_dir):
    bunch = datasets.fetch_fashion_mnist(data_home=data_dir, download=False)
    assert bunch.data.shape == (60000, 784) and bunch.data.dtype == np.float32
    assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(bunch.target), [6000] * 10)
    assert bunch.images.shape == (60000, 28, 28)
    assert np.shares_memory(bunch.images, bunch.data)
    assert len(bunch.feature_names) == 784 and len(bunch.target_names) == 10
    assert "Fashion-MNIST" in bunch.DESCR
    X, y = datasets.fetch_fashion_mnist(
        "test", data_home=data_dir, download=False, return_X_y=True, as_uint8=True
    )
    assert X.shape == (10000, 784) and X.dtype == np.uint8 and X.max() == 255
    np.testing.assert_array_equal(np.bincount(y), [1000] * 10)


def test_mnist_real_files(data_dir):
    # Found through $DEEPZOO_DATA alone (the fixture's folder).
    bunch = datasets.fetch_mnist(subset="test", download=False)
    assert bunch.data.shape == (10000, 784) and bunch.data.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(bunch.target), MNIST_TEST_COUNTS)
    X8, y8 = datasets.fetch_mnist(
        "test", data_home=data_dir, download=False, return_X_y=True, as_uint8=True
    )
    assert X8.dtype == np.uint8
    # float32 is exactly uint8 / 255.
    np.testing.assert_array_equal(bunch.data, X8.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(bunch.target, y8)
    train_labels = datasets.load_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(np.bincount(train_labels), MNIST_TRAIN_COUNTS)


def test_mnist_train_5k_real_file(data_dir):
    X, y = datasets.fetch_mnist("train-5k", data_home=data_dir, download=False,
                                return_X_y=True)
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert 0.0 == X.min() and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)
    # None of the 5,000 training images is a test image.
    test = datasets.fetch_mnist("test", data_home=data_dir, download=False, as_uint8=True)
    train8 = np.round(X * 255).astype(np.uint8)
    assert not set(map(bytes, train8)) & set(map(bytes, test.data))


def test_mnist_train_images_absent_offline(tmp_path, monkeypatch):
    # A data folder of its own that holds the test split only, as a user's
    # partial cache would: true whatever the shared data holds.
    data_dir = tmp_path / "data"
    _write_split(data_dir / "mnist", 3)
    monkeypatch.setenv("DEEPZOO_DATA", str(data_dir))
    with pytest.raises(FileNotFoundError) as info:
        datasets.fetch_mnist("train", download=False)
    msg = str(info.value)
    assert "train-images-idx3-ubyte" in msg
    assert str(data_dir / "mnist") in msg and "$DEEPZOO_DATA" in msg
    assert "user cache" in msg and "download=False" in msg
    assert "python datasets/fetch.py mnist" in msg


# --------------------------------------------------------------------------
# Search order


@pytest.mark.parametrize("place", ["data_home", "env", "cache"])
def test_search_order(place, tmp_path, monkeypatch):
    homes = {"data_home": tmp_path / "home", "env": tmp_path / "env",
             "cache": tmp_path / "cache" / "deepzoo"}
    monkeypatch.setenv("DEEPZOO_DATA", str(homes["env"]))
    # Every later place holds a larger copy; the first one with files wins.
    order = list(homes)
    for i, name in enumerate(order[order.index(place):]):
        _write_split(homes[name] / "mnist", 3 + i)
    X, _ = datasets.fetch_mnist("test", data_home=homes["data_home"], return_X_y=True)
    assert len(X) == 3


@pytest.mark.parametrize("damage", ["env_is_file", "mnist_is_file", "mode_000",
                                    "lookup_denied", "file_unreadable"])
def test_unusable_env_folder_falls_back(damage, tmp_path, monkeypatch):
    # $DEEPZOO_DATA that cannot be searched is skipped, with a warning naming
    # it, and the next place (the user cache) is used. The tests run as root,
    # where mode 000 does not stop reading: the permission checks are patched
    # as well, to what an ordinary user would get.
    env = tmp_path / "env"
    _write_split(tmp_path / "cache" / "deepzoo" / "mnist", 3)
    monkeypatch.setenv("DEEPZOO_DATA", str(env))
    if damage == "env_is_file":
        env.write_bytes(b"not a folder")
        bad = env
    elif damage == "mnist_is_file":
        env.mkdir()
        (env / "mnist").write_bytes(b"not a folder")
        bad = env / "mnist"
    else:
        _write_split(env / "mnist", 5)
        bad = env / "mnist"
        if damage == "file_unreadable":
            bad = bad / "t10k-"  # both files of the split
        real_access, real_stat = datasets.os.access, Path.stat

        def access(path, mode, **kwargs):
            return not str(path).startswith(str(bad)) and real_access(path, mode, **kwargs)

        def stat(path, **kwargs):
            if str(path).startswith(str(bad) + "/"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_stat(path, **kwargs)

        monkeypatch.setattr(datasets.os, "access", access)
        if damage == "lookup_denied":
            monkeypatch.setattr(Path, "stat", stat)
        if damage == "mode_000":
            bad.chmod(0)
    try:
        with pytest.warns(UserWarning, match=f"skipping {re.escape(str(bad))}.*DEEPZOO_DATA"):
            X, _ = datasets.fetch_mnist("test", download=False, return_X_y=True)
    finally:
        if damage == "mode_000":
            bad.chmod(0o755)  # so that pytest can delete tmp_path
    assert len(X) == 3


def test_debian_folder_and_gz_files(tmp_path, monkeypatch):
    monkeypatch.delenv("DEEPZOO_DATA", raising=False)
    debian = tmp_path / "debian"
    images = _write_split(debian, 4)
    for path in debian.iterdir():  # the Debian package ships .gz files
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    bunch = datasets.fetch_fashion_mnist("test", as_uint8=True)
    np.testing.assert_array_equal(bunch.images, images)
    assert bunch.target_names[bunch.target[1]] == "Trouser"
    # The Debian folder is only searched for Fashion-MNIST.
    with pytest.raises(FileNotFoundError, match="not found"):
        datasets.fetch_mnist("test", download=False)


def test_mismatched_pair_raises(tmp_path):
    folder = tmp_path / "mnist"
    _write_split(folder, 3)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="3 images but labels of shape"):
        datasets.fetch_mnist("test", data_home=tmp_path)


# --------------------------------------------------------------------------
# load_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32,
                                   np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_round_trip(dtype, compress, tmp_path):
    array = (np.arange(24) - 7).reshape(2, 3, 4).astype(dtype)
    data = _idx_bytes(array)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    loaded = datasets.load_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    loaded[0, 0, 0] = 1  # writable


@pytest.fixture(scope="module")
def labels_idx():
    return _idx_bytes(np.arange(100, dtype=np.uint8) % 10)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda b: b[:-1], "truncated: the header declares shape"),
        (lambda b: b[:6], "truncated: 6 bytes, shorter than its 8-byte header"),
        (lambda b: b[:3], "shorter than the 4-byte magic"),
        (lambda b: b"", "shorter than the 4-byte magic"),
        (lambda b: b + b"\0", "1 bytes follow the 108"),
        (lambda b: b"\x01" + b[1:], "magic number starts with bytes 0x01 0x00"),
        (lambda b: b[:2] + b"\x07" + b[3:], "unknown type code 0x07"),
        (lambda b: b[:3] + b"\x00" + b[4:], "declares 0 dimensions"),
        (lambda b: b[:3] + b"\x02" + b[4:], "truncated: the header declares shape"),
        (lambda b: b"\x89PNG\r\n\x1a\n" + b, "not an IDX file"),
        (lambda b: b"0,0,0,5\n1,2,3,4\n", "not an IDX file"),
    ],
)
def test_load_idx_rejects_bad_files(mutate, match, labels_idx, tmp_path):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(mutate(labels_idx))
    with pytest.raises(ValueError, match=match):
        datasets.load_idx(path)


def test_load_idx_truncated_real_gzip(data_dir, tmp_path):
    data = (data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or damaged gzip"):
        datasets.load_idx(gz)
    raw = tmp_path / "t10k-images-idx3-ubyte"
    raw.write_bytes(gzip.decompress(data)[:-784])
    with pytest.raises(ValueError, match=r"shape \(10000, 28, 28\)"):
        datasets.load_idx(raw)
    # A foreign file: the CSV subset is gzip too, but not IDX.
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.load_idx(data_dir / "mnist" / "train-5k.csv.gz")


# --------------------------------------------------------------------------
# Downloads from a local HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.hits[self.path] += 1
        route = server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        kind, payload = route
        if kind == "status":
            self.send_error(payload)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if kind == "cut":  # close the connection halfway through the body
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.timeout = 5
    httpd.routes, httpd.hits = {}, Counter()
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.url = base
    # Two mirrors per source: /a/ then /b/.
    monkeypatch.setattr(
        datasets, "MIRRORS", {key: (f"{base}/a/", f"{base}/b/") for key in datasets.MIRRORS}
    )
    monkeypatch.setattr(datasets, "_TIMEOUT", 10.0)
    monkeypatch.delenv("DEEPZOO_DATA", raising=False)
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def fashion_test_gz(data_dir):
    """The real Fashion-MNIST test files, as a mirror serves them."""
    folder = data_dir / "fashion-mnist"
    return {
        name: (folder / f"{name}.gz").read_bytes()
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    }


def test_download_checksum_pass(server, fashion_test_gz, tmp_path):
    images, labels = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
    # Mirror a serves the images re-gzipped with another header, mirror b
    # the raw labels: both pass, because the digest is of the decompressed
    # bytes.
    regz = gzip.compress(gzip.decompress(fashion_test_gz[images]), mtime=12345)
    assert regz != fashion_test_gz[images]
    server.routes[f"/a/{images}.gz"] = ("ok", regz)
    server.routes[f"/b/{labels}.gz"] = ("ok", gzip.decompress(fashion_test_gz[labels]))
    home = tmp_path / "home"
    X, y = datasets.fetch_fashion_mnist("test", data_home=home, return_X_y=True)
    assert X.shape == (10000, 784)
    np.testing.assert_array_equal(np.bincount(y), [1000] * 10)
    assert _files_under(home) == [
        Path("fashion-mnist/t10k-images-idx3-ubyte.gz"),
        Path("fashion-mnist/t10k-labels-idx1-ubyte"),
    ]
    # A second call finds the files and sends no request.
    hits = sum(server.hits.values())
    datasets.fetch_fashion_mnist("test", data_home=home)
    assert sum(server.hits.values()) == hits


def test_download_goes_to_user_cache(server, fashion_test_gz, tmp_path):
    for name, payload in fashion_test_gz.items():
        server.routes[f"/a/{name}.gz"] = ("ok", payload)
    datasets.fetch_fashion_mnist("test")
    assert datasets.get_data_home() == tmp_path / "cache" / "deepzoo"
    assert len(_files_under(tmp_path / "cache" / "deepzoo" / "fashion-mnist")) == 2


def test_download_checksum_mismatch(server, fashion_test_gz, tmp_path):
    images, labels = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
    server.routes[f"/a/{images}.gz"] = ("ok", fashion_test_gz[images])
    wrong = gzip.compress(_idx_bytes(np.zeros(10000, np.uint8)))
    server.routes[f"/a/{labels}.gz"] = ("ok", wrong)
    server.routes[f"/b/{labels}.gz"] = ("ok", wrong)
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError) as info:
        datasets.fetch_fashion_mnist("test", data_home=home)
    msg = str(info.value)
    expected = datasets._REGISTRY["fashion-mnist", labels][2]
    assert msg.count(f"expected {expected}") == 2
    assert hashlib.sha256(gzip.decompress(wrong)).hexdigest() in msg
    # A wrong file is not retried on the same mirror, and nothing is kept.
    assert server.hits[f"/a/{labels}.gz"] == 1 and server.hits[f"/b/{labels}.gz"] == 1
    # Nothing of the wrong file is kept (the images, verified, stay).
    assert _files_under(home) == [Path(f"fashion-mnist/{images}.gz")]
    # With a good second mirror the download succeeds.
    server.routes[f"/b/{labels}.gz"] = ("ok", fashion_test_gz[labels])
    datasets.fetch_fashion_mnist("test", data_home=home)
    assert len(_files_under(home)) == 2


@pytest.mark.parametrize("status, tries", [(500, datasets._N_TRIES), (503, datasets._N_TRIES),
                                           (404, 1), (403, 1)])
def test_download_http_error(status, tries, server, tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(datasets, "_BACKOFF", 0.25)
    monkeypatch.setattr(datasets.time, "sleep", sleeps.append)
    name = "t10k-images-idx3-ubyte"
    for mirror in "ab":
        server.routes[f"/{mirror}/{name}.gz"] = ("status", status)
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError) as info:
        datasets.fetch_mnist("test", data_home=home)
    msg = str(info.value)
    # Transient errors are retried, permanent ones are not; every mirror is tried.
    assert server.hits[f"/a/{name}.gz"] == tries and server.hits[f"/b/{name}.gz"] == tries
    for mirror in "ab":
        assert f"{server.url}/{mirror}/{name}.gz: HTTP {status}" in msg
    assert str(home / "mnist") in msg and "data_home argument" in msg
    assert "user cache" in msg and "download=True" in msg
    assert "Debian" not in msg
    assert _files_under(home) == []
    # Exponential backoff between the tries on one mirror.
    assert sleeps == [0.25 * 2**k for k in range(tries - 1)] * 2


def test_download_keyboard_interrupt_leaves_no_file(server, fashion_test_gz, tmp_path,
                                                    monkeypatch):
    name = "t10k-labels-idx1-ubyte"
    server.routes[f"/a/{name}.gz"] = ("ok", fashion_test_gz[name])

    def interrupted(path):
        assert Path(path).stat().st_size == len(fashion_test_gz[name])
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "_sha256_decompressed", interrupted)
    home = tmp_path / "home"
    _write_split(home / "fashion-mnist", 2)  # images present, labels missing
    (home / "fashion-mnist" / name).unlink()
    with pytest.raises(KeyboardInterrupt):
        datasets.fetch_fashion_mnist("test", data_home=home)
    assert _files_under(home) == [Path("fashion-mnist/t10k-images-idx3-ubyte")]


def test_download_interrupted_leaves_no_file(server, fashion_test_gz, tmp_path):
    name = "t10k-images-idx3-ubyte"
    server.routes[f"/a/{name}.gz"] = ("cut", fashion_test_gz[name])
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError) as info:
        datasets.fetch_fashion_mnist("test", data_home=home)
    size = len(fashion_test_gz[name])
    assert f"connection closed after {size // 2} of {size} bytes" in str(info.value)
    assert server.hits[f"/a/{name}.gz"] == datasets._N_TRIES
    assert "dataset-fashion-mnist" in str(info.value)
    assert _files_under(home) == []


def test_download_unreachable_host(tmp_path, monkeypatch):
    # The autouse fixture's mirror is a closed port on 127.0.0.1.
    monkeypatch.delenv("DEEPZOO_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as info:
        datasets.fetch_mnist("test", data_home=tmp_path / "home")
    assert f"127.0.0.1:9/t10k-images-idx3-ubyte.gz: [Errno 111] Connection refused "\
        f"({datasets._N_TRIES} attempts)" in str(info.value)
    assert _files_under(tmp_path / "home") == []


def test_fetch_driver(server, data_dir, tmp_path, capsys):
    """datasets/fetch.py through the library: test and train-5k arrive, the
    missing train images are reported and make the exit status 1."""
    mnist = data_dir / "mnist"
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        server.routes[f"/b/{name}.gz"] = ("ok", (mnist / f"{name}.gz").read_bytes())
    server.routes["/a/mnist_5k.csv.gz"] = ("ok", (mnist / "train-5k.csv.gz").read_bytes())
    driver = runpy.run_path(str(ROOT / "datasets" / "fetch.py"), run_name="fetch")
    home = tmp_path / "home"
    assert driver["main"](["mnist", "--data-home", str(home)]) == 1
    out = capsys.readouterr().out
    assert "mnist test: 10000 x 784" in out and "mnist train-5k: 5000 x 784" in out
    assert "mnist train: FAILED" in out
    assert {p.name for p in (home / "mnist").iterdir()} == {
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-5k.csv.gz",
    }
    assert driver["main"](["natural-images"]) == 0
    assert "natural-images: 1000 x 256" in capsys.readouterr().out


# --------------------------------------------------------------------------
# Natural-image patches


def _radial_slope(patches, size, fmin, fmax):
    """Slope of log mean power against log radial frequency (cycles/pixel)."""
    power = (np.abs(np.fft.fft2(patches.reshape(-1, size, size))) ** 2).mean(axis=0)
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
    band = (f >= fmin) & (f <= fmax)
    return np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0], power, f


def test_patches_shape_mean_dtype():
    for whiten in (False, True):
        patches = datasets.extract_natural_patches(500, 12, whiten=whiten, random_state=0)
        assert patches.shape == (500, 144) and patches.dtype == np.float64
        np.testing.assert_allclose(patches.mean(axis=1), 0, atol=1e-14)
        assert patches.std(axis=1).min() > 0
    raw = datasets.extract_natural_patches(500, 12, whiten=False, random_state=0)
    assert np.ptp(raw, axis=1).max() <= 1.0  # grey levels in [0, 1]
    p32 = datasets.extract_natural_patches(500, 12, random_state=0, dtype=np.float32)
    p64 = datasets.extract_natural_patches(500, 12, random_state=0)
    assert p32.dtype == np.float32
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-6)
    np.testing.assert_allclose(p32.mean(axis=1, dtype=np.float64), 0, atol=1e-6)


def test_patches_reproducible():
    a = datasets.extract_natural_patches(300, 8, random_state=42)
    b = datasets.extract_natural_patches(300, 8, random_state=np.random.RandomState(42))
    c = datasets.extract_natural_patches(300, 8, random_state=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_whitening_flattens_the_spectrum():
    size = 16
    raw = datasets.extract_natural_patches(3000, size, whiten=False, random_state=0)
    white = datasets.extract_natural_patches(3000, size, whiten=True, random_state=0)
    # Natural images: power ~ 1/f^2. The ramp R(f) = f makes it flat below
    # the roll-off (f0 = 0.4 cycles/pixel), which only bends it a little
    # by 0.25 cycles/pixel.
    slope_raw, _, _ = _radial_slope(raw, size, 1 / size, 0.25)
    slope_white, power, f = _radial_slope(white, size, 1 / size, 0.25)
    assert slope_raw < -1.5
    assert -0.6 < slope_white < 0.3
    # The roll-off: near Nyquist exp(-2 (f/f0)^4) leaves < 5 % of the power.
    mid = power[(f >= 0.1) & (f <= 0.25)].mean()
    assert power[f >= 0.45].mean() < 0.05 * mid
    # Whitened images are scaled to unit variance; a patch holds a little
    # less because its own mean is removed.
    assert 0.8 < white.var(axis=1).mean() < 1.0


def test_patches_bad_arguments():
    with pytest.raises(ValueError, match="patch_size <= 419"):
        datasets.extract_natural_patches(10, 420)
    with pytest.raises(ValueError, match="float32 or float64"):
        datasets.extract_natural_patches(10, 8, dtype=np.int64)
    with pytest.raises(ValueError, match="n_patches"):
        datasets.extract_natural_patches(0, 8)
    with pytest.raises(ValueError, match="subset"):
        datasets.fetch_mnist("validation")
    with pytest.raises(ValueError, match="subset"):
        datasets.fetch_fashion_mnist("train-5k")


def test_patches_from_scikit_image_photographs():
    # Each set is its own photographs: the three draws differ, and the
    # larger set is whitened and cut the same way.
    size = 16
    sets = {images: datasets.extract_natural_patches(2000, size, images=images, random_state=0)
            for images in ("scikit-learn", "scikit-image", "all")}
    for images, patches in sets.items():
        assert patches.shape == (2000, size * size), images
        np.testing.assert_allclose(patches.mean(axis=1), 0, atol=1e-13)
        assert 0.8 < patches.var(axis=1).mean() < 1.1, images
    assert not np.array_equal(sets["scikit-learn"], sets["scikit-image"])
    # The nine photographs of scikit-image come in, whitened by the same
    # filter: the ramp raises the slope of their power spectrum by about 2
    # (the roll-off bends it a little by 0.25 cycles/pixel). Their spectra
    # fall faster than 1/f^2 (measured: -2.47 against scikit-learn's -2.21;
    # -1.9 to -3.3 per photograph, resampled and compressed), which a fixed
    # filter leaves: the whitened slope is -0.77, not 0.
    white = sets["scikit-image"]
    raw = datasets.extract_natural_patches(2000, size, images="scikit-image", whiten=False,
                                           random_state=0)
    slope_raw = _radial_slope(raw, size, 1 / size, 0.25)[0]
    slope_white = _radial_slope(white, size, 1 / size, 0.25)[0]
    assert slope_raw < -2
    assert 1.5 < slope_white - slope_raw < 2.1 and slope_white > -1
    # 'all' is the union: every photograph of both sets, scaled by one factor.
    from deepzoo.datasets import _natural_images
    both = _natural_images("all", False)
    assert len(both) == len(_natural_images("scikit-learn", False)) + len(
        _natural_images("scikit-image", False)) == 11
    for mine, theirs in zip(both, _natural_images("scikit-learn", False) + _natural_images(
            "scikit-image", False)):
        np.testing.assert_array_equal(mine, theirs)
    assert all(0 <= image.min() and image.max() <= 1 for image in both)
    np.testing.assert_array_equal(
        sets["all"], datasets.extract_natural_patches(2000, size, images="all", random_state=0))


def test_scikit_image_photographs_without_scikit_image(monkeypatch):
    from deepzoo.datasets import _natural_images

    _natural_images.cache_clear()
    monkeypatch.setitem(sys.modules, "skimage", None)  # import skimage fails
    try:
        with pytest.raises(ImportError, match=r"deepzoo\[images\]"):
            datasets.extract_natural_patches(10, 8, images="scikit-image")
        with pytest.raises(ImportError, match="scikit-image"):
            datasets.extract_natural_patches(10, 8, images="all")
        # scikit-learn's photographs need no scikit-image
        assert datasets.extract_natural_patches(10, 8).shape == (10, 64)
    finally:
        _natural_images.cache_clear()


def test_patches_bad_image_set():
    with pytest.raises(ValueError, match="images"):
        datasets.extract_natural_patches(10, 8, images="kodak")
    # the smallest photograph of scikit-image's set (chelsea, 300x451) bounds the patch
    with pytest.raises(ValueError, match="patch_size <= 292"):
        datasets.extract_natural_patches(10, 293, images="all")


def test_wrong_image_shape_raises(tmp_path):
    folder = tmp_path / "mnist"
    _write_split(folder, 2)
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    with pytest.raises(ValueError, match=r"expected 28x28 uint8 images; got .* \(2, 32, 32\)"):
        datasets.fetch_mnist("test", data_home=tmp_path)


def test_load_idx_huge_declared_size(tmp_path):
    # 2^31 * 2^31 * 4 = 2^64 bytes: an int64 product would wrap to 0 and
    # accept this header-only file.
    path = tmp_path / "huge"
    dims = [2**31, 2**31, 4]
    path.write_bytes(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in dims))
    with pytest.raises(ValueError, match="truncated: the header declares shape"):
        datasets.load_idx(path)
