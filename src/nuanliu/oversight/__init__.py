"""Regulator oversight: supervision orders (督办单), heating operating licences
(供热经营许可), evaluation with versioned scorecards (考核评价) and exit (退出).

- ``orders``: the order state machine, audited; ``jobs.order_sweep`` flags overdue
  orders and escalates them to the next regulator level;
- ``licences``: licences, their state history, expiry warnings;
- ``scorecard`` / ``indicators`` / ``evaluation``: configurable scorecards and runs;
- ``exit``: the exit rule's flags and the regulator's decisions.
"""
