from bench.suite.machine import MachineState, _advice_lines, noise_warnings

QUIET = MachineState(3.0, 0.2, 2, "performance", "")


def test_a_quiet_machine_gets_no_warning():
    assert noise_warnings(QUIET) == []


def test_other_load_and_scaling_are_warned_about():
    busy = MachineState(60.0, 3.5, 2, "powersave", "")
    warnings = noise_warnings(busy)
    assert len(warnings) == 3
    assert warnings[0].startswith("other load: 60% of the CPUs were busy")
    assert "load average 3.5 exceeds the 2 cores" in warnings[1]
    assert "'powersave'" in warnings[2]


def test_pyperf_advice_keeps_advices_and_warnings():
    text = (
        "System state\n============\n\nCPU: use 2 logical CPUs\n\nAdvices\n=======\n\n"
        "Perf event: Set max sample rate to 1\n\nWarnings\n========\n\n"
        'Turbo Boost (MSR): Failed to read MSR\n\nRun "python -m pyperf system tune" ...\n'
    )
    assert _advice_lines(text) == [
        "Perf event: Set max sample rate to 1",
        "Turbo Boost (MSR): Failed to read MSR",
    ]
