"""On-demand heating (按需供热): load forecasting, supply-temperature scheduling and
hydraulic balancing.

- :mod:`~nuanliu.control.series` — the training input: hourly ``(site_id, ts, heat_kw
  [, outdoor_temp_c])`` frames, cleaned onto a regular grid with every repair counted.
- :mod:`~nuanliu.control.forecaster` — LightGBM day-ahead … 7-day forecasts.
- :mod:`~nuanliu.control.backtest` — rolling-origin backtests against baselines.
- :mod:`~nuanliu.control.schedule` — the supply-temperature schedule (HiGHS LP).
- :mod:`~nuanliu.control.balance` — station Δp set-points and valve settings.
"""
