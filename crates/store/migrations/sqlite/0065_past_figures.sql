-- A past period's figures, kept once counted (issue 18: a report of last week or
-- last month must answer as fast as the live cockpit). The demands' figures as
-- they stood at a period's end (read from the timelines) and the visits' coverage
-- of the 90 days ending then (asking the visits of everyone met since) took 50 and
-- 80 ms for a district of 100,000 people, for the area and again for each child;
-- the roll-ups of 0062-0064 serve today's state only.
--
-- A row is the figures of one source ('demands', 'visits') for one area and one
-- period that ended at `to_ms` (a midnight in China). It is kept while nothing it
-- was counted from changes: every write that can change a past period's figures
-- deletes the rows of the areas holding the row written (`area_ancestors`) whose
-- period ended after the write's effective time. A write of the last hour (a new
-- item, today's step, today's visit) cannot change a period that ended before it,
-- so the triggers' conditions let the day's work pass untouched; a row is only
-- kept for a period that ended two hours before it was counted (see
-- store::cockpit::past, which also says why the margin is safe).
--
-- What each source's figures read, so what drops them:
--   demands: an item's row (place, creation, deadlines, the closing's time and end
--   of the time to rate, the response's time, the rating and its time) and its
--   timeline's steps up to the period's end. A step of today changes no past
--   state: every change of status is a step.
--   visits: the occupied households now under the area and the visits of the
--   window (any write to a visit of the window's days), and for the care tags the
--   tagged people now living under the area (their tags, place, household, status).
--
-- Every write that drops rows also raises `past_figures_epoch`: a reader counting
-- a period keeps what it counted only if the epoch it read before counting is
-- still the epoch (a write committed while it counted dropped nothing of its, not
-- yet written). `wangge figures verify` counts every kept row again. Kept in step
-- with ../postgres/0065_past_figures.sql.
CREATE TABLE past_figures (
    path     TEXT NOT NULL,     -- the area
    source   TEXT NOT NULL,     -- 'demands' | 'visits'
    to_ms    BIGINT NOT NULL,   -- the period's end (exclusive), a midnight in China
    from_ms  BIGINT NOT NULL,   -- its start
    figures  TEXT NOT NULL,     -- the source's counts, JSON
    PRIMARY KEY (path, source, to_ms, from_ms)
);

CREATE TABLE past_figures_epoch (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL,
    tx  BIGINT            -- PostgreSQL's: raised once per transaction there; unused here
);
INSERT INTO past_figures_epoch (id, n) VALUES (1, 0);

-- demands: an item created (or removed) before the last hour.
CREATE TRIGGER past_figures_demand_insert AFTER INSERT ON demands
WHEN NEW.created_at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > NEW.created_at
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = NEW.path);
END;

CREATE TRIGGER past_figures_demand_delete AFTER DELETE ON demands
WHEN OLD.created_at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > OLD.created_at
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

-- Its place, creation or deadlines changed (a move, a reopening's new time to
-- resolve), or a closing's time or end of the time to rate after a reopening
-- (read for the periods it stood closed in): every period since its creation.
CREATE TRIGGER past_figures_demand_update AFTER UPDATE OF path, created_at, accept_due, resolve_due, closed_at, rating_due ON demands
WHEN (OLD.path IS NOT NEW.path OR OLD.created_at IS NOT NEW.created_at
      OR OLD.accept_due IS NOT NEW.accept_due OR OLD.resolve_due IS NOT NEW.resolve_due
      OR ((OLD.closed_at IS NOT NEW.closed_at OR OLD.rating_due IS NOT NEW.rating_due)
          AND (OLD.closed_at IS NOT NULL OR NEW.reopened <> 0)))
    AND min(OLD.created_at, NEW.created_at) < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > min(OLD.created_at, NEW.created_at)
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path IN (OLD.path, NEW.path));
END;

-- The response's time: read for the periods ending after it.
CREATE TRIGGER past_figures_demand_responded AFTER UPDATE OF responded_at ON demands
WHEN OLD.responded_at IS NOT NEW.responded_at
    AND min(COALESCE(OLD.responded_at, NEW.responded_at), COALESCE(NEW.responded_at, OLD.responded_at))
        < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands'
        AND to_ms > min(COALESCE(OLD.responded_at, NEW.responded_at), COALESCE(NEW.responded_at, OLD.responded_at))
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = NEW.path);
END;

-- A rating (its score, whose it is, when): read for the periods ending after it
-- was given; a first rating of today changes no past period.
CREATE TRIGGER past_figures_demand_rated AFTER UPDATE OF rating, rating_source, rated_at ON demands
WHEN (OLD.rating IS NOT NEW.rating OR OLD.rating_source IS NOT NEW.rating_source OR OLD.rated_at IS NOT NEW.rated_at)
    AND min(COALESCE(OLD.rated_at, NEW.rated_at), COALESCE(NEW.rated_at, OLD.rated_at))
        < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands'
        AND to_ms > min(COALESCE(OLD.rated_at, NEW.rated_at), COALESCE(NEW.rated_at, OLD.rated_at))
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = NEW.path);
END;

-- A step of the timeline dated before the last hour (history entered afterwards,
-- a step corrected or removed).
CREATE TRIGGER past_figures_demand_event_insert AFTER INSERT ON demand_events
WHEN NEW.at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > NEW.at
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN demands d ON d.path = a.path WHERE d.id = NEW.demand_id);
END;

CREATE TRIGGER past_figures_demand_event_delete AFTER DELETE ON demand_events
WHEN OLD.at < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > OLD.at
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN demands d ON d.path = a.path WHERE d.id = OLD.demand_id);
END;

CREATE TRIGGER past_figures_demand_event_update AFTER UPDATE OF demand_id, to_status, at ON demand_events
WHEN (OLD.demand_id IS NOT NEW.demand_id OR OLD.to_status IS NOT NEW.to_status OR OLD.at IS NOT NEW.at)
    AND min(OLD.at, NEW.at) < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'demands' AND to_ms > min(OLD.at, NEW.at)
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN demands d ON d.path = a.path
                     WHERE d.id IN (OLD.demand_id, NEW.demand_id));
END;

-- visits: a visit of a day before the last hour's (its day's end, in China, is
-- before it), for the periods ending after that day; the area is its household's.
CREATE TRIGGER past_figures_visit_insert AFTER INSERT ON visits
WHEN (CAST(strftime('%s', NEW.visited_on, '+1 day') AS INTEGER) - 28800) * 1000 - 1
        < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND to_ms > (CAST(strftime('%s', NEW.visited_on, '+1 day') AS INTEGER) - 28800) * 1000 - 1
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN households h ON h.path = a.path WHERE h.id = NEW.household_id);
END;

CREATE TRIGGER past_figures_visit_delete AFTER DELETE ON visits
WHEN (CAST(strftime('%s', OLD.visited_on, '+1 day') AS INTEGER) - 28800) * 1000 - 1
        < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND to_ms > (CAST(strftime('%s', OLD.visited_on, '+1 day') AS INTEGER) - 28800) * 1000 - 1
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN households h ON h.path = a.path WHERE h.id = OLD.household_id);
END;

CREATE TRIGGER past_figures_visit_update AFTER UPDATE OF household_id, resident_id, channel, outcome, visited_on ON visits
WHEN (OLD.household_id IS NOT NEW.household_id OR OLD.resident_id IS NOT NEW.resident_id
      OR OLD.channel IS NOT NEW.channel OR OLD.outcome IS NOT NEW.outcome OR OLD.visited_on IS NOT NEW.visited_on)
    AND (CAST(strftime('%s', min(OLD.visited_on, NEW.visited_on), '+1 day') AS INTEGER) - 28800) * 1000 - 1
        < CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND to_ms > (CAST(strftime('%s', min(OLD.visited_on, NEW.visited_on), '+1 day') AS INTEGER) - 28800) * 1000 - 1
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN households h ON h.path = a.path
                     WHERE h.id IN (OLD.household_id, NEW.household_id));
END;

-- The households and tagged people the coverage is of are today's: a change of
-- them changes every period's figures of the areas holding them.
CREATE TRIGGER past_figures_household_insert AFTER INSERT ON households
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = NEW.path);
END;

CREATE TRIGGER past_figures_household_delete AFTER DELETE ON households
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TRIGGER past_figures_household_update AFTER UPDATE OF path, occupancy ON households
WHEN OLD.path IS NOT NEW.path OR OLD.occupancy IS NOT NEW.occupancy
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path IN (OLD.path, NEW.path));
END;

CREATE TRIGGER past_figures_resident_update AFTER UPDATE OF path, household_id, status ON residents
WHEN OLD.path IS NOT NEW.path OR OLD.household_id IS NOT NEW.household_id OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path IN (OLD.path, NEW.path));
END;

CREATE TRIGGER past_figures_resident_delete AFTER DELETE ON residents
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT ancestor FROM area_ancestors WHERE path = OLD.path);
END;

CREATE TRIGGER past_figures_resident_tag_insert AFTER INSERT ON resident_tags
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN residents r ON r.path = a.path WHERE r.id = NEW.resident_id);
END;

CREATE TRIGGER past_figures_resident_tag_delete AFTER DELETE ON resident_tags
BEGIN
    UPDATE past_figures_epoch SET n = n + 1;
    DELETE FROM past_figures WHERE source = 'visits'
        AND path IN (SELECT a.ancestor FROM area_ancestors a JOIN residents r ON r.path = a.path WHERE r.id = OLD.resident_id);
END;
