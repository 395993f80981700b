"""Heating service hotline and dual stewards (供热服务专线、双管家).

A complaint becomes a ticket routed to its household's community: the community's
enterprise steward handles it, its government steward supervises it. The ticket carries
the household's sensor evidence, runs SLA clocks per step with escalation on breach, and
closes only on the resident's confirmation (or a documented failed follow-up). Modules:

- ``model`` — categories, states, channels, steps (the vocabulary);
- ``machine`` — the state machine: which action is legal in which state;
- ``calendar`` / ``sla`` — heating-season calendar, SLA budgets, clocks, pauses;
- ``tickets`` — creating tickets and applying actions (the one writer of tickets);
- ``intake`` / ``imports`` — finding households; the 12345 work-order import;
- ``evidence`` — the sensor snapshot taken on creation;
- ``escalation`` / ``falseclosure`` / ``jobs`` — the periodic SLA sweep;
- ``compensation`` / ``stats`` — the seams for billing and oversight;
- ``queries`` — scoped reads for the API and pages; ``demo`` — the demo season.
"""
