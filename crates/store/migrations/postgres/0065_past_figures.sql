-- A past period's figures, kept once counted (issue 18). Kept in step with
-- ../sqlite/0065_past_figures.sql, which says what drops a kept row and why; the
-- tables are the same, the triggers call one function here.
CREATE TABLE past_figures (
    path     TEXT COLLATE "C" NOT NULL,
    source   TEXT NOT NULL,
    to_ms    BIGINT NOT NULL,
    from_ms  BIGINT NOT NULL,
    figures  TEXT NOT NULL,
    PRIMARY KEY (path, source, to_ms, from_ms)
);

CREATE TABLE past_figures_epoch (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL,
    tx  BIGINT            -- the transaction that raised it last
);
INSERT INTO past_figures_epoch (id, n) VALUES (1, 0);

-- Drops `source`'s rows of the areas holding any of `paths` whose period ended
-- after `after` (NULL: every period), and raises the epoch first: a reader
-- keeping a row holds the epoch's row FOR SHARE until it commits, so this waits
-- for it and then deletes what it kept (each statement of a function sees the
-- rows committed before it starts). Once per transaction: readers only ask
-- whether a dropping transaction committed while they counted, and a load of a
-- year of history updating one row for each of its 600,000 rows and steps made
-- the row's versions a chain each update walked (the load took five times as long).
CREATE FUNCTION past_figures_drop(p_source TEXT, p_paths TEXT[], p_after BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE past_figures_epoch SET n = n + 1, tx = txid_current()
    WHERE id = 1 AND tx IS DISTINCT FROM txid_current();
    DELETE FROM past_figures WHERE source = p_source AND (p_after IS NULL OR to_ms > p_after)
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = ANY (p_paths));
END
$$;

-- Before the last hour: what only a period that ended before now can be read for.
CREATE FUNCTION past_figures_cutoff() RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) - 3600000
$$;

-- The end (exclusive of the next ms) of a day 'YYYY-MM-DD' in China, in Unix ms, less one.
CREATE FUNCTION past_figures_day_end(day TEXT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT (CAST(EXTRACT(EPOCH FROM CAST(day AS DATE) + 1) AS BIGINT) - 28800) * 1000 - 1
$$;

CREATE FUNCTION past_figures_demands() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        t := NEW.created_at;
    ELSIF TG_OP = 'DELETE' THEN
        t := OLD.created_at;
    ELSE
        -- Its place, creation or deadlines, or a closing after a reopening: every
        -- period since its creation; the response's time and the rating: the
        -- periods ending after them (LEAST skips NULLs).
        IF OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
            OR OLD.accept_due IS DISTINCT FROM NEW.accept_due OR OLD.resolve_due IS DISTINCT FROM NEW.resolve_due
            OR ((OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.rating_due IS DISTINCT FROM NEW.rating_due)
                AND (OLD.closed_at IS NOT NULL OR NEW.reopened <> 0)) THEN
            t := LEAST(OLD.created_at, NEW.created_at);
        END IF;
        IF OLD.responded_at IS DISTINCT FROM NEW.responded_at THEN
            t := LEAST(t, OLD.responded_at, NEW.responded_at);
        END IF;
        IF OLD.rating IS DISTINCT FROM NEW.rating OR OLD.rating_source IS DISTINCT FROM NEW.rating_source
            OR OLD.rated_at IS DISTINCT FROM NEW.rated_at THEN
            t := LEAST(t, OLD.rated_at, NEW.rated_at);
        END IF;
    END IF;
    IF t IS NOT NULL AND t < past_figures_cutoff() THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM past_figures_drop('demands', ARRAY[NEW.path], t);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM past_figures_drop('demands', ARRAY[OLD.path], t);
        ELSE
            PERFORM past_figures_drop('demands', ARRAY[OLD.path, NEW.path], t);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- Items and steps written many to a statement (a year of history, an import) are
-- dropped for once per statement: row by row, a load of 200,000 back-dated steps
-- took ten times as long.
CREATE FUNCTION past_figures_demands_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff BIGINT := past_figures_cutoff();
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE created_at < cutoff) THEN
        UPDATE past_figures_epoch SET n = n + 1, tx = txid_current()
        WHERE id = 1 AND tx IS DISTINCT FROM txid_current();
        DELETE FROM past_figures p USING (
            SELECT a.ancestor, MIN(i.created_at) AS t FROM inserted i JOIN area_ancestors a ON a.path = i.path
            WHERE i.created_at < cutoff GROUP BY a.ancestor) x
        WHERE p.source = 'demands' AND p.path = x.ancestor AND p.to_ms > x.t;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER past_figures_demand_insert AFTER INSERT ON demands
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION past_figures_demands_inserted();
CREATE TRIGGER past_figures_demand_delete AFTER DELETE ON demands
    FOR EACH ROW WHEN (OLD.created_at < past_figures_cutoff()) EXECUTE FUNCTION past_figures_demands();
CREATE TRIGGER past_figures_demand_update
    AFTER UPDATE OF path, created_at, accept_due, resolve_due, closed_at, rating_due, responded_at, rating, rating_source, rated_at ON demands
    FOR EACH ROW EXECUTE FUNCTION past_figures_demands();

CREATE FUNCTION past_figures_demand_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t BIGINT;
    paths TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        t := NEW.at;
    ELSIF TG_OP = 'DELETE' THEN
        t := OLD.at;
    ELSIF OLD.demand_id IS DISTINCT FROM NEW.demand_id OR OLD.to_status IS DISTINCT FROM NEW.to_status
        OR OLD.at IS DISTINCT FROM NEW.at THEN
        t := LEAST(OLD.at, NEW.at);
    END IF;
    IF t IS NOT NULL AND t < past_figures_cutoff() THEN
        SELECT array_agg(d.path) INTO paths FROM demands d
        WHERE d.id IN (CASE WHEN TG_OP = 'DELETE' THEN OLD.demand_id ELSE NEW.demand_id END,
                       CASE WHEN TG_OP = 'INSERT' THEN NEW.demand_id ELSE OLD.demand_id END);
        PERFORM past_figures_drop('demands', paths, t);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION past_figures_demand_events_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff BIGINT := past_figures_cutoff();
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE at < cutoff) THEN
        UPDATE past_figures_epoch SET n = n + 1, tx = txid_current()
        WHERE id = 1 AND tx IS DISTINCT FROM txid_current();
        DELETE FROM past_figures p USING (
            SELECT a.ancestor, MIN(i.at) AS t FROM inserted i JOIN demands d ON d.id = i.demand_id
                JOIN area_ancestors a ON a.path = d.path
            WHERE i.at < cutoff GROUP BY a.ancestor) x
        WHERE p.source = 'demands' AND p.path = x.ancestor AND p.to_ms > x.t;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER past_figures_demand_event_insert AFTER INSERT ON demand_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION past_figures_demand_events_inserted();
CREATE TRIGGER past_figures_demand_event_delete AFTER DELETE ON demand_events
    FOR EACH ROW WHEN (OLD.at < past_figures_cutoff()) EXECUTE FUNCTION past_figures_demand_events();
CREATE TRIGGER past_figures_demand_event_update AFTER UPDATE OF demand_id, to_status, at ON demand_events
    FOR EACH ROW EXECUTE FUNCTION past_figures_demand_events();

CREATE FUNCTION past_figures_visits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t BIGINT;
    paths TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        t := past_figures_day_end(NEW.visited_on);
    ELSIF TG_OP = 'DELETE' THEN
        t := past_figures_day_end(OLD.visited_on);
    ELSIF OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.resident_id IS DISTINCT FROM NEW.resident_id
        OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.outcome IS DISTINCT FROM NEW.outcome
        OR OLD.visited_on IS DISTINCT FROM NEW.visited_on THEN
        t := LEAST(past_figures_day_end(OLD.visited_on), past_figures_day_end(NEW.visited_on));
    END IF;
    IF t IS NOT NULL AND t < past_figures_cutoff() THEN
        SELECT array_agg(h.path) INTO paths FROM households h
        WHERE h.id IN (CASE WHEN TG_OP = 'DELETE' THEN OLD.household_id ELSE NEW.household_id END,
                       CASE WHEN TG_OP = 'INSERT' THEN NEW.household_id ELSE OLD.household_id END);
        PERFORM past_figures_drop('visits', paths, t);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER past_figures_visit_insert AFTER INSERT ON visits
    FOR EACH ROW WHEN (past_figures_day_end(NEW.visited_on) < past_figures_cutoff())
    EXECUTE FUNCTION past_figures_visits();
CREATE TRIGGER past_figures_visit_delete AFTER DELETE ON visits
    FOR EACH ROW WHEN (past_figures_day_end(OLD.visited_on) < past_figures_cutoff())
    EXECUTE FUNCTION past_figures_visits();
CREATE TRIGGER past_figures_visit_update AFTER UPDATE OF household_id, resident_id, channel, outcome, visited_on ON visits
    FOR EACH ROW EXECUTE FUNCTION past_figures_visits();

-- The households and tagged people the coverage is of are today's: every period.
CREATE FUNCTION past_figures_people() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paths TEXT[];
BEGIN
    IF TG_TABLE_NAME = 'resident_tags' THEN
        SELECT array_agg(r.path) INTO paths FROM residents r
        WHERE r.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.resident_id ELSE NEW.resident_id END;
    ELSIF TG_OP = 'INSERT' THEN
        paths := ARRAY[NEW.path];
    ELSIF TG_OP = 'DELETE' THEN
        paths := ARRAY[OLD.path];
    ELSE
        paths := ARRAY[OLD.path, NEW.path];
    END IF;
    PERFORM past_figures_drop('visits', paths, NULL);
    RETURN NULL;
END
$$;

CREATE TRIGGER past_figures_household_insert AFTER INSERT ON households
    FOR EACH ROW EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_household_delete AFTER DELETE ON households
    FOR EACH ROW EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_household_update AFTER UPDATE OF path, occupancy ON households
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.occupancy IS DISTINCT FROM NEW.occupancy)
    EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_resident_update AFTER UPDATE OF path, household_id, status ON residents
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path OR OLD.household_id IS DISTINCT FROM NEW.household_id
                       OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_resident_delete AFTER DELETE ON residents
    FOR EACH ROW EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_resident_tag_insert AFTER INSERT ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION past_figures_people();
CREATE TRIGGER past_figures_resident_tag_delete AFTER DELETE ON resident_tags
    FOR EACH ROW EXECUTE FUNCTION past_figures_people();
