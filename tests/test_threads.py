"""BLAS thread limits (deepzoo.utils._threads)."""

from threadpoolctl import threadpool_info, threadpool_limits

from deepzoo.utils import _threads
from deepzoo.utils._threads import blas_single_thread


def _blas_threads():
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas"}


def test_nested_blocks_keep_one_thread_until_the_outermost_closes():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and set(before.values()) == {2}
        with blas_single_thread():
            with blas_single_thread():
                assert set(_blas_threads().values()) == {1}
            # the inner block's exit must not restore the caller's two threads
            assert set(_blas_threads().values()) == {1}
        assert _blas_threads() == before


def test_a_nested_block_leaves_the_thread_pools_alone(monkeypatch):
    with blas_single_thread():  # the controller is built on first use
        pass
    controller = _threads._CONTROLLER[0]
    limits = []
    real = controller.limit
    monkeypatch.setattr(controller, "limit", lambda **kw: limits.append(kw) or real(**kw))
    with blas_single_thread():
        with blas_single_thread():
            with blas_single_thread():
                pass
    assert limits == [{"limits": 1, "user_api": "blas"}]
