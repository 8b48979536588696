"""Calibration: fit the behaviour nobody observes to a district's observed figures, with
approximate Bayesian computation (ABC-SMC, pyabc), and carry the remaining uncertainty into
comparisons.

One concept per module: :mod:`~govsim.calibrate.targets` (the targets file: observed
figures, fixed values, priors, validation), :mod:`~govsim.calibrate.priors` (prior ranges
and the pyabc distribution), :mod:`~govsim.calibrate.simulate` (one simulation: parameters
in, target figures out), :mod:`~govsim.calibrate.sampler` (reproducible evaluation on local
processes or Dask), :mod:`~govsim.calibrate.driver` (the ABC-SMC run, its store and resume),
:mod:`~govsim.calibrate.outputs` (posterior, figures, predictive check, calibrated
scenario, report), :mod:`~govsim.calibrate.posterior` (draws for ``compare``/``sweep
--posterior``), :mod:`~govsim.calibrate.cli` (the command) and
:mod:`~govsim.calibrate.toys` (a simulator with a known answer, for tests).
"""
