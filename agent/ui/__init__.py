"""The local web dashboard (`magnet ui`): sessions, the live trace, the review inbox, curves.

A second client of the library calls the CLI uses (agent/session.py, agent/traces.py): what is
answered here is answered there, and the other way round.
"""
