"""SIGTERM handled like Ctrl-C while sigterm_stops() is active, and only then."""

import os
import signal
import time

import pytest

from bench.stopping import EXIT_STATUS, Terminated, sigterm_stops, stop_signal


def test_sigterm_raises_terminated_a_keyboard_interrupt_and_the_handler_comes_back():
    previous = signal.getsignal(signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt) as stop, sigterm_stops():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    assert type(stop.value) is Terminated
    assert stop_signal(stop.value) == signal.SIGTERM
    assert EXIT_STATUS[stop_signal(stop.value)] == 143
    assert signal.getsignal(signal.SIGTERM) is previous


def test_a_plain_ctrl_c_is_sigint():
    assert stop_signal(KeyboardInterrupt()) == signal.SIGINT
    assert EXIT_STATUS[signal.SIGINT] == 130


def test_a_second_sigterm_while_stopping_is_ignored():
    with sigterm_stops():
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGTERM)  # already stopping: nothing is raised
        time.sleep(0.01)
