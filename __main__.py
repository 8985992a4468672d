"""Finance Report: one program, one stack per environment (pr-<N>, staging, production, local)."""

from components.program import run

run()
