-- Per-block summaries of every run's metric series, so metricHistory reads ~n/16 rows instead of n.
-- A block is 16 consecutive epochs (epoch >> 4) of one metric of one run: its points in epoch order and
-- its first minimum and first maximum. Triggers on EpochMetric rebuild the blocks a statement touched
-- from EpochMetric itself, so every write path (the trainer's recordEpoch, a rewind's delete, a direct
-- INSERT) keeps them exact.

-- CreateTable
CREATE TABLE "MetricBlock" (
    "runId" UUID NOT NULL,
    "metric" TEXT NOT NULL,
    "block" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,
    "epochs" INTEGER[],
    "values" DOUBLE PRECISION[],
    "minValue" DOUBLE PRECISION NOT NULL,
    "minEpoch" INTEGER NOT NULL,
    "maxValue" DOUBLE PRECISION NOT NULL,
    "maxEpoch" INTEGER NOT NULL,

    CONSTRAINT "MetricBlock_pkey" PRIMARY KEY ("runId","metric","block")
);

-- AddForeignKey
ALTER TABLE "MetricBlock" ADD CONSTRAINT "MetricBlock_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Rebuilds the blocks (runs[k], blocks[k]) from EpochMetric: the five column metrics, then every other
-- named metric of "values" (a name the columns hold is read from its column only, as metricHistory does).
--
-- Concurrency: each run's blocks are rebuilt under a transaction-level advisory lock taken in run order,
-- so two writers of one run's epochs take turns (no lost update: under READ COMMITTED the rebuild's
-- statement, run after the lock is granted, sees the other writer's committed rows) and two writers of
-- several runs cannot deadlock on these locks. jit is off: a 100,000-row rebuild would otherwise spend
-- longer compiling than running.
CREATE FUNCTION metric_blocks_rebuild(runs UUID[], blocks INTEGER[]) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  r UUID;
BEGIN
  IF runs IS NULL THEN
    RETURN; -- the statement touched no rows
  END IF;
  FOR r IN SELECT DISTINCT x FROM unnest(runs) AS t(x) ORDER BY x LOOP
    PERFORM pg_advisory_xact_lock(hashtext('MetricBlock'), hashtext(r::text));
  END LOOP;

  WITH k AS (
    SELECT DISTINCT run_id, block FROM unnest(runs, blocks) AS t(run_id, block)
  ), src AS (
    SELECT k.run_id, k.block, m.epoch, x.metric, x.value
    FROM k
    JOIN "EpochMetric" m ON m."runId" = k.run_id AND m.epoch BETWEEN k.block * 16 AND k.block * 16 + 15
    CROSS JOIN LATERAL (
      VALUES ('loss', m.loss), ('valLoss', m."valLoss"), ('accuracy', m.accuracy),
             ('valAccuracy', m."valAccuracy"), ('durationMs', m."durationMs")
      UNION ALL
      SELECT v->>'name', (v->>'value')::float8
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m."values") = 'array' THEN m."values" ELSE '[]' END) v
      WHERE jsonb_typeof(v->'value') = 'number'
        AND v->>'name' NOT IN ('loss', 'valLoss', 'accuracy', 'valAccuracy', 'durationMs')
    ) AS x(metric, value)
    WHERE x.value IS NOT NULL AND x.metric IS NOT NULL
  ), agg AS (
    SELECT run_id, metric, block, count(*)::int AS n,
           array_agg(epoch ORDER BY epoch) AS epochs, array_agg(value ORDER BY epoch) AS vals,
           -- the first minimum (least value, then earliest epoch) and the first maximum
           min(ARRAY[value, epoch]) AS lo, max(ARRAY[value, -epoch]) AS hi
    FROM src GROUP BY run_id, metric, block
  ), gone AS (
    DELETE FROM "MetricBlock" b USING k
    WHERE b."runId" = k.run_id AND b.block = k.block
      AND NOT EXISTS (SELECT 1 FROM agg a WHERE a.run_id = b."runId" AND a.metric = b.metric AND a.block = b.block)
  )
  INSERT INTO "MetricBlock" ("runId", metric, block, count, epochs, "values", "minValue", "minEpoch", "maxValue", "maxEpoch")
  SELECT run_id, metric, block, n, epochs, vals, lo[1], lo[2]::int, hi[1], (-hi[2])::int
  FROM agg ORDER BY run_id, metric, block
  ON CONFLICT ("runId", metric, block) DO UPDATE SET
    count = EXCLUDED.count, epochs = EXCLUDED.epochs, "values" = EXCLUDED."values",
    "minValue" = EXCLUDED."minValue", "minEpoch" = EXCLUDED."minEpoch",
    "maxValue" = EXCLUDED."maxValue", "maxEpoch" = EXCLUDED."maxEpoch";
END
$$;

CREATE FUNCTION metric_blocks_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM metric_blocks_rebuild(array_agg(k.r), array_agg(k.b))
  FROM (SELECT DISTINCT "runId" AS r, epoch >> 4 AS b FROM new_rows) k;
  RETURN NULL;
END
$$;

CREATE FUNCTION metric_blocks_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM metric_blocks_rebuild(array_agg(k.r), array_agg(k.b))
  FROM (SELECT DISTINCT "runId" AS r, epoch >> 4 AS b FROM old_rows) k;
  RETURN NULL;
END
$$;

CREATE FUNCTION metric_blocks_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM metric_blocks_rebuild(array_agg(k.r), array_agg(k.b))
  FROM (SELECT "runId" AS r, epoch >> 4 AS b FROM old_rows
        UNION SELECT "runId", epoch >> 4 FROM new_rows) k;
  RETURN NULL;
END
$$;

CREATE TRIGGER metric_blocks_insert AFTER INSERT ON "EpochMetric"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_after_insert();
CREATE TRIGGER metric_blocks_delete AFTER DELETE ON "EpochMetric"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_after_delete();
CREATE TRIGGER metric_blocks_update AFTER UPDATE ON "EpochMetric"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_after_update();

-- Backfill: the blocks of every epoch stored before this migration.
SELECT metric_blocks_rebuild(array_agg(r), array_agg(b))
FROM (SELECT DISTINCT "runId" AS r, epoch >> 4 AS b FROM "EpochMetric") k
HAVING count(*) > 0;
