-- The items created by category in a whole past month, kept once counted
-- (`past_figures`, source 'categories'). Kept in step with
-- ../sqlite/0072_past_categories.sql, which says why and what drops a row; the
-- triggers call 0065's `past_figures_drop` here.
CREATE FUNCTION past_figures_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM past_figures_drop('categories', ARRAY[OLD.path], OLD.created_at);
    ELSE
        PERFORM past_figures_drop('categories', ARRAY[OLD.path, NEW.path], LEAST(OLD.created_at, NEW.created_at));
    END IF;
    RETURN NULL;
END
$$;

-- An item entered: intake's path, so 0065's statement trigger drops both sources
-- rather than a second trigger running on every statement.
CREATE OR REPLACE FUNCTION past_figures_demands_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff BIGINT := past_figures_cutoff();
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE created_at < cutoff) THEN
        UPDATE past_figures_epoch SET n = n + 1, tx = txid_current()
        WHERE id = 1 AND tx IS DISTINCT FROM txid_current();
        DELETE FROM past_figures p USING (
            SELECT a.ancestor, MIN(i.created_at) AS t FROM inserted i JOIN area_ancestors a ON a.path = i.path
            WHERE i.created_at < cutoff GROUP BY a.ancestor) x
        WHERE p.source IN ('demands', 'categories') AND p.path = x.ancestor AND p.to_ms > x.t;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER past_figures_categories_delete AFTER DELETE ON demands
    FOR EACH ROW WHEN (OLD.created_at < past_figures_cutoff()) EXECUTE FUNCTION past_figures_categories();
CREATE TRIGGER past_figures_categories_update AFTER UPDATE OF path, created_at, category ON demands
    FOR EACH ROW
    WHEN ((OLD.path IS DISTINCT FROM NEW.path OR OLD.created_at IS DISTINCT FROM NEW.created_at
           OR OLD.category IS DISTINCT FROM NEW.category)
          AND LEAST(OLD.created_at, NEW.created_at) < past_figures_cutoff())
    EXECUTE FUNCTION past_figures_categories();
