"""One scheduler for every periodic job (alerts, reports, aggregates, billing, …).

``jobs.JOBS`` lists the jobs by import path with a cron schedule in local time
(Asia/Shanghai by default); ``runner.Scheduler`` runs the due ones. Each scheduled
slot of a job is claimed by inserting its row in ``sched_runs`` (the primary key makes
one claimant win), so any number of scheduler instances run every slot exactly once.
See docs/deploy.md "Scheduler".
"""
