-- The notifier's business calendar and its narrow path to a customer's phone (tierguard-notifier,
-- Shared/TierGuardStore/Notify; deploy/SECURITY.md item 6).

-- Business days in mainland China: Monday–Friday, except the public holidays the State Council
-- announces each year, plus the 调休 make-up working days (a Saturday or Sunday worked in exchange for
-- a bridging day). A day listed here decides; a day not listed is a workday when it is Monday–Friday.
-- So the table only needs the holidays that fall on weekdays and the weekend make-up workdays; the
-- weekend days of a holiday are listed too, for a readable calendar.
--
-- SHIPPED DEFAULTS — THE OPERATOR MUST CONFIRM THEM AGAINST THE STATE COUNCIL NOTICE (国务院办公厅关于
-- 放假安排的通知) each year and correct or add rows as tierguard_operator, e.g.
--   INSERT INTO business_calendar VALUES ('2027-02-20', true, '春节调休上班')
--       ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday, note = EXCLUDED.note;
-- 2026: the arrangement as published for 2026. 2027: only the statutory holiday days themselves
-- (元旦, 春节 除夕–初三, 清明, 劳动节 May 1–2, 端午, 中秋, 国庆 Oct 1–3) — the 2027 notice's bridging
-- days and make-up workdays are NOT included and must be loaded when it is published. Beyond the
-- listed years every Monday–Friday counts as a business day.
CREATE TABLE business_calendar (
    day        date PRIMARY KEY,
    is_workday boolean NOT NULL,
    note       text NOT NULL
);
COMMENT ON TABLE business_calendar IS
    'Holidays and 调休 make-up workdays; unlisted days: Mon-Fri work, Sat/Sun off. Shipped rows: operator must confirm against the State Council notice.';

INSERT INTO business_calendar (day, is_workday, note)
SELECT d::date, false, v.note
FROM (VALUES
    ('2026-01-01', '2026-01-03', '元旦'),
    ('2026-02-15', '2026-02-23', '春节'),
    ('2026-04-04', '2026-04-06', '清明节'),
    ('2026-05-01', '2026-05-05', '劳动节'),
    ('2026-06-19', '2026-06-21', '端午节'),
    ('2026-09-25', '2026-09-27', '中秋节'),
    ('2026-10-01', '2026-10-07', '国庆节'),
    ('2027-01-01', '2027-01-01', '元旦 (statutory day only; confirm the 2027 notice)'),
    ('2027-02-05', '2027-02-08', '春节 (statutory days only; confirm the 2027 notice)'),
    ('2027-04-05', '2027-04-05', '清明节 (statutory day only; confirm the 2027 notice)'),
    ('2027-05-01', '2027-05-02', '劳动节 (statutory days only; confirm the 2027 notice)'),
    ('2027-06-09', '2027-06-09', '端午节 (statutory day only; confirm the 2027 notice)'),
    ('2027-09-15', '2027-09-15', '中秋节 (statutory day only; confirm the 2027 notice)'),
    ('2027-10-01', '2027-10-03', '国庆节 (statutory days only; confirm the 2027 notice)')
) AS v (first, last, note)
CROSS JOIN LATERAL generate_series(v.first::date, v.last::date, interval '1 day') AS d;

INSERT INTO business_calendar (day, is_workday, note) VALUES
    ('2026-01-04', true, '元旦调休上班 (周日)'),
    ('2026-02-14', true, '春节调休上班 (周六)'),
    ('2026-02-28', true, '春节调休上班 (周六)'),
    ('2026-05-09', true, '劳动节调休上班 (周六)'),
    ('2026-09-20', true, '国庆节调休上班 (周日)'),
    ('2026-10-10', true, '国庆节调休上班 (周六)');

-- `start` plus `n` business days (n ≥ 0): the n-th business day after `start`; `start` itself never
-- counts. The notifier's 回访 task is due tierguard_add_business_days(business date, 3).
CREATE FUNCTION tierguard_add_business_days(start date, n integer) RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public
AS $$
DECLARE
    d date := start;
    remaining integer := n;
    workday boolean;
BEGIN
    WHILE remaining > 0 LOOP
        d := d + 1;
        SELECT c.is_workday INTO workday FROM business_calendar c WHERE c.day = d;
        IF NOT FOUND THEN
            workday := extract(isodow FROM d) < 6;
        END IF;
        IF workday THEN
            remaining := remaining - 1;
        END IF;
    END LOOP;
    RETURN d;
END $$;

GRANT SELECT ON business_calendar TO tierguard_notifier;
GRANT SELECT, INSERT, UPDATE, DELETE ON business_calendar TO tierguard_operator;

-- The notifier's only way to a customer's phone (it has no SELECT on customers.phone_enc, 0005/0006):
-- the sealed number (customers.phone_enc, AES-256-GCM, 0006_pii_encryption.sql; the notifier opens it with
-- PersonalDataVault and the key file it is given for SMS) of one customer, and only when a birthday greeting SMS to that customer is allowed right now —
--   * the customer is active;
--   * not opted out of marketing, and has not refused automated profiling (the greeting is chosen by tier),
--     by the stricter of the feed and the recorded preference (customer_effective_preferences);
--   * the newest tier is 金卡 (gold) or above;
--   * today, in Asia/Shanghai by the database clock, is the birthday (29 February → 28 February in other years).
-- Otherwise NULL. So the role can never list phone numbers, only fetch today's few greeting recipients one
-- at a time, and each number handed out is recorded in pii_access_audit (operator 'tierguard-notifier',
-- command 'birthday_sms'). SECURITY DEFINER runs as the migrating owner; search_path is pinned so no object in
-- a schema the caller controls can be substituted. EXECUTE: tierguard_notifier only (revoked from PUBLIC).
CREATE FUNCTION tierguard_birthday_sms_recipient(customer_id text) RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    today date := (clock_timestamp() AT TIME ZONE 'Asia/Shanghai')::date;
    sealed bytea;
BEGIN
    SELECT c.phone_enc INTO sealed
    FROM public.customers c
    JOIN public.customer_effective_preferences p ON p.customer_id = c.customer_id
    WHERE c.customer_id = tierguard_birthday_sms_recipient.customer_id
      AND c.status = 'active' AND c.erased_at IS NULL
      AND NOT p.marketing_opt_out
      AND NOT p.automated_profiling_refused
      AND c.birth_date IS NOT NULL
      AND (c.birth_date + make_interval(years => extract(year FROM today)::int - extract(year FROM c.birth_date)::int))::date
          = today
      AND (SELECT s.tier FROM public.customer_scores s WHERE s.customer_id = c.customer_id ORDER BY s.id DESC LIMIT 1)
          IN ('gold', 'platinum', 'diamond', 'private');
    IF sealed IS NOT NULL THEN
        INSERT INTO public.pii_access_audit (operator, customer_ids, reason, command)
        VALUES ('tierguard-notifier', ARRAY[tierguard_birthday_sms_recipient.customer_id], 'birthday greeting SMS', 'birthday_sms');
    END IF;
    RETURN sealed;
END $$;
REVOKE ALL ON FUNCTION tierguard_birthday_sms_recipient(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tierguard_birthday_sms_recipient(text) TO tierguard_notifier;
