"""The emulator support code: what plays the parts of AWS that the emulator (moto) lacks.

The tests and ``python build.py sandbox`` use it; product code (templates, the
Lambda package, ``publish``) never imports it and never knows it runs here: it is
reached only through endpoints and injected clients. Each gap is listed once, in
:mod:`sandbox.emulator_gaps`.
"""
