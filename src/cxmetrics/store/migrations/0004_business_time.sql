-- 0004: business time (see cxmetrics.calendar and docs/business-time.md).
-- Frozen: later changes go in new numbered files, never here.
-- These tables are a cache of the schedules in schedules.toml, materialised by
-- cxmetrics.calendar.ensure_calendar() for a range of dates and rebuilt whenever the
-- schedules (their fingerprint) or the range they must cover change. B(t) is the number of
-- business seconds from the calendar's range_start to t: only differences of B are meaningful.
-- (IF NOT EXISTS: ensure_calendar runs this file too on a bare connection.)

-- one row per (schedule, bucket of bucket_us microseconds of UTC time) in the range; a bucket
-- is all business time or none, so for t in it B(t) = c_us + slope * epoch_us(t).
-- Keys are dense (each schedule a block of consecutive keys) so that the engine's inner
-- equi-join uses a perfect hash table; key -1 is a row of NULLs that lookups outside the
-- calendar (a NULL time, an unknown schedule, a time out of range) are sent to.
CREATE TABLE IF NOT EXISTS business_calendar (
    key BIGINT NOT NULL,      -- key_base + (epoch_us(bucket start) - range_start_us) // bucket_us
    c_us BIGINT,              -- B(t) - slope * epoch_us(t) in the bucket, microseconds
    slope BIGINT              -- 1: business time, 0: not
);

-- inverse lookup for due times: one row per (schedule, window of due_step_us of B);
-- the earliest t with B(t) = T (T in the window) is s1_us + (T - c1_us) if T <= cend1_us,
-- else s2_us + (T - c2_us): a window meets at most two business intervals. Key -1: NULLs.
CREATE TABLE IF NOT EXISTS business_calendar_due (
    key BIGINT NOT NULL,      -- due_base + (T - 1) // due_step_us
    c1_us BIGINT,             -- B at the start of the first business interval the window meets
    s1_us BIGINT,             -- that interval's start (epoch microseconds)
    cend1_us BIGINT,          -- B at its end
    c2_us BIGINT,             -- the same for the next interval (NULL: none in range)
    s2_us BIGINT
);

-- the schedules materialised, with the numbers the lookups need; sid -1 is a row of NULLs
CREATE TABLE IF NOT EXISTS business_schedules (
    sid INTEGER NOT NULL,           -- the schedule's place among the names in sorted order
    schedule VARCHAR,
    timezone VARCHAR,
    range_start_us BIGINT,          -- the calendar's range, epoch microseconds (the same for all)
    range_end_us BIGINT,
    bucket_us BIGINT,               -- bucket width of business_calendar (900 s, or 60 s if boundaries are off quarter hours)
    buckets BIGINT,                 -- how many
    key_base BIGINT,                -- key of the schedule's first bucket
    due_step_us BIGINT,             -- window width of business_calendar_due
    due_windows BIGINT,
    due_base BIGINT,
    business_s BIGINT               -- business seconds in the whole range
);

-- what is materialised: at most one row
CREATE TABLE IF NOT EXISTS business_calendar_state (
    fingerprint VARCHAR NOT NULL,     -- of the schedules (and the holidays package version)
    range_start TIMESTAMPTZ NOT NULL, -- B is defined on [range_start, range_end)
    range_end TIMESTAMPTZ NOT NULL,
    built_at TIMESTAMPTZ NOT NULL,
    calendar_rows BIGINT NOT NULL
);
