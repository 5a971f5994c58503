-- Operators run tierguardctl as their own login in tierguard_operator (deploy/SECURITY.md "Service logins"),
-- not as the owner. Every command was run as such a login (Tests/ServiceTests/OperatorLoginTests.swift);
-- these are the grants the writing commands lacked, each the narrowest that lets the command's SQL run:
-- column lists where the SQL names its columns, never ownership, never BYPASSRLS. What tierguard_operator
-- already had and was enough: SELECT on the tables of 0005 and those granted since; the job tables and
-- tg_job_operator_actions (`jobs retry|cancel|discard|pause|resume`); pii_access_audit (`--unmask`);
-- customer_erasures and the erased columns (`customer erase`, 0006, 0012); RLS `services_all` on customers,
-- customer_scores and alerts. `migrate` stays the owner's: tierguardctl refuses it for a non-owner login.

-- `tierguardctl profiling ID --refuse|--allow --reason`: the feedback service's preference path
-- (FeedbackStore.submit): claims the idempotency receipt, then records its answer.
GRANT INSERT (kind, key, request_hash, status, body, source), UPDATE (status, body)
    ON feedback_receipts TO tierguard_operator;
-- … appends the preference event and keeps the operator's --reason beside it (ProfilingCommand).
GRANT INSERT (preference_id, customer_id, marketing_opt_out, automated_profiling_refused, channel, source, recorded_at),
      UPDATE (reason)
    ON preference_events TO tierguard_operator;
-- … and upserts the customer's current flags ("newer statement wins").
GRANT INSERT (customer_id, marketing_opt_out_recorded, automated_profiling_refused, source, recorded_at),
      UPDATE (marketing_opt_out_recorded, automated_profiling_refused, source, recorded_at)
    ON customer_preferences TO tierguard_operator;

-- `tierguardctl rescore ID…` and `rescore --all` score in this process (CustomerScorer, BookScorer), through
-- the scorer's own writes. ScoringSettings.recordPolicy marks the policy in force.
GRANT INSERT (version, policy, active), UPDATE (active, last_used, policy)
    ON scoring_policies TO tierguard_operator;
-- … ScoreWriter.insertScores: the score row (id and scored_at take their defaults).
GRANT INSERT (customer_id, business_date, policy_version, catalog_version, tier, is_provisional, first_balance_date,
              aum_fen, mtd_sum_fen, mtd_days, m3_month, m3_sum_fen, m3_days, m3_before_first, m2_month, m2_sum_fen,
              m2_days, m2_before_first, m1_month, m1_sum_fen, m1_days, m1_before_first, watch_months, warning_date,
              warning_from_tier, warning_to_tier, warning_gap_fen, warning_extra_daily_fen, warning, signals,
              signal_codes, value, contribution_fen, retention_probability, recommendations, suitability, content_hash)
    ON customer_scores TO tierguard_operator;
-- … ScoreWriter.upsertHistory and deleteStaleHistory: the tier history is rewritten to what the model says.
GRANT INSERT (customer_id, effective_on, from_tier, to_tier, kind, deciding_month, floor_fen, reason, policy_version),
      UPDATE (from_tier, to_tier, kind, deciding_month, floor_fen, reason, policy_version, recorded_at),
      DELETE
    ON customer_tier_history TO tierguard_operator;
-- … ScoreWriter.insertAlerts, refreshAlerts (confirm, reopen) and resolveAlerts. Their notify_alert jobs go
-- into tg_jobs, already granted (0005).
GRANT INSERT (customer_id, kind, dedup_key, business_date, first_business_date, cooldown_until, payload),
      UPDATE (state, last_raised_at, business_date, cooldown_until, payload, resolved_at, resolved_business_date)
    ON alerts TO tierguard_operator;

-- `tierguardctl notify retry ID --reason`: a failed notification back to pending (NotifyQueries.retry); its
-- send_notification job goes into tg_jobs.
GRANT UPDATE (state, reason, updated_at) ON notifications TO tierguard_operator;
