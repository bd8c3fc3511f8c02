-- Send pacing shared by every process on this database (issue 13, item 8).
--
-- send_log: one row per send still inside its budget's window, per key (a platform, or
-- platform:workspace:channel). A reservation deletes its keys' rows older than their
-- window, so a key never holds more than its COUNT rows: the table stays as small as
-- the budgets (channels x COUNT), with no pruning job.
-- send_blocks: a 429's Retry-After per key, read by every reservation.
CREATE TABLE send_log (
    key      TEXT NOT NULL,
    sent_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX send_log_key ON send_log (key, sent_at);

CREATE TABLE send_blocks (
    key            TEXT PRIMARY KEY,
    blocked_until  TIMESTAMPTZ NOT NULL
);

-- Take one send for every key at `at`, or none: returns 0 when taken, else the seconds
-- until all keys may have room. One call is one statement, so one round trip and one
-- transaction. Each budgeted key is locked (a transaction-level advisory lock, released
-- at commit) in the order given, platform first, so two reservations never wait on
-- each other in a cycle, and two processes cannot both see the last slot as free.
-- Under those locks a key's sends are recorded in order: `at` is moved up to the keys'
-- latest send when a process's clock (or its call) is behind, so each key's log only
-- grows forward in time and the window check is exact whatever order calls arrive in;
-- the wait returned is still from the caller's `at`.
CREATE FUNCTION reserve_send(
    keys TEXT[], counts INTEGER[], pers DOUBLE PRECISION[], at TIMESTAMPTZ
) RETURNS DOUBLE PRECISION LANGUAGE plpgsql AS $$
DECLARE
    i INTEGER;
    wait DOUBLE PRECISION := 0;
    used INTEGER;
    oldest TIMESTAMPTZ;
    horizon TIMESTAMPTZ;
    stamp TIMESTAMPTZ;
BEGIN
    FOR i IN 1 .. cardinality(keys) LOOP
        IF counts[i] > 0 THEN
            PERFORM pg_advisory_xact_lock(
                hashtextextended('newsbot send ' || coalesce(current_schema(), '') || ' '
                                 || keys[i], 0));
        END IF;
    END LOOP;
    SELECT greatest(at, coalesce(max(sent_at), at)) INTO stamp
        FROM send_log WHERE key = ANY(keys);
    SELECT greatest(0, coalesce(extract(epoch FROM max(blocked_until) - at), 0))
        INTO wait FROM send_blocks WHERE key = ANY(keys);
    FOR i IN 1 .. cardinality(keys) LOOP
        CONTINUE WHEN counts[i] <= 0;
        horizon := stamp - make_interval(secs => pers[i]);
        DELETE FROM send_log WHERE key = keys[i] AND sent_at <= horizon;
        SELECT count(*), min(sent_at) INTO used, oldest FROM send_log WHERE key = keys[i];
        IF used >= counts[i] THEN
            wait := greatest(wait, extract(epoch FROM oldest - horizon + (stamp - at)));
        END IF;
    END LOOP;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    INSERT INTO send_log (key, sent_at)
        SELECT keys[n], stamp FROM generate_subscripts(keys, 1) AS n WHERE counts[n] > 0;
    RETURN 0;
END
$$;
