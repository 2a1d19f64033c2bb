"""The metrics' instruments are made once per process, even when the first request and the
embedded worker's first conversion arrive at the same moment: a second registration of a
name is prometheus-client's DuplicateTimeseries, which once failed a PDF job under load."""

from __future__ import annotations

import subprocess
import sys
import textwrap

RACE = textwrap.dedent(
    """
    import sys, threading
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    from workflow import metrics

    barrier = threading.Barrier(16)
    errors = []

    def first_use(i):
        barrier.wait()
        try:
            if i % 2:
                metrics.observe_request(method="GET", route="/x", status=200, seconds=0.01)
            else:
                metrics.observe_conversion("warm")(lambda: None)()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(errors), errors[:1])
    """
)


def test_sixteen_threads_using_the_metrics_first_at_once_all_succeed() -> None:
    # A process of its own: this one has made its instruments already.
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "0 []", done.stdout
