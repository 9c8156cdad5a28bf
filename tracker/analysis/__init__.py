"""Pure analysis layer: functions over numpy arrays that return frozen dataclasses.

Nothing in this package touches a database, the clock, the network or logging; it imports numpy, scipy
and the standard library only, so every result can be recomputed from stored samples and tested with
plain arrays. Units are part of every name (`rr_ms`, `t_ms`, `window_s`, `hr_bpm`).

One topic per module; among them:

- `artifacts` — the RR artefact gate (range gate + 11-beat local-median gate + quality gate).
- `hrv` — time-domain, frequency-domain and nonlinear HRV of one RR series, plus cheap per-window
  lnRMSSD / mean HR for whole nights.

Each module's docstring states the conventions it owns.

Conventions follow shared/research/science.md §0–§3 and are restated in each module's docstring.
"""
