"""Helpers the delivery workflows call (`python -m ops <command>`), plus operator tools.

The workflows stay thin: every decision they make (stack names, versions, smoke verdicts, which PR
stacks to reap, comment text) lives here, on top of the environment model, so it is unit-tested.
"""
