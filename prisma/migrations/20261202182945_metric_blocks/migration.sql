-- CreateTable
CREATE TABLE "MetricBlock" (
    "runId" UUID NOT NULL,
    "metric" TEXT NOT NULL,
    "block" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,
    "firstEpoch" INTEGER NOT NULL,
    "lastEpoch" INTEGER NOT NULL,
    "minValue" DOUBLE PRECISION NOT NULL,
    "minEpoch" INTEGER NOT NULL,
    "maxValue" DOUBLE PRECISION NOT NULL,
    "maxEpoch" INTEGER NOT NULL,

    CONSTRAINT "MetricBlock_pkey" PRIMARY KEY ("runId","metric","block")
);

-- AddForeignKey
ALTER TABLE "MetricBlock" ADD CONSTRAINT "MetricBlock_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- MetricBlock is kept by the triggers below, in the transaction of every write to EpochMetric, whoever writes
-- (recordEpoch, a bulk insert, a retry's delete, a cascade from Run). A block is the epochs e with
-- e / 16 = block (integer division): consecutive, disjoint ranges in epoch order, which is all metricHistory needs.

-- Every point one EpochMetric row gives to a series, as RunRepository.metricHistory reads them: the column
-- metrics from their columns (when not null), every other named metric from "values".
CREATE FUNCTION metric_block_points(m "EpochMetric") RETURNS TABLE (metric TEXT, value DOUBLE PRECISION)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT c.metric, c.value
  FROM (VALUES ('loss', m.loss), ('valLoss', m."valLoss"), ('accuracy', m.accuracy),
               ('valAccuracy', m."valAccuracy"), ('durationMs', m."durationMs")) AS c(metric, value)
  WHERE c.value IS NOT NULL
  UNION ALL
  SELECT v->>'name', (v->>'value')::float8 FROM jsonb_array_elements(m."values") AS v
  WHERE v->>'name' NOT IN ('loss', 'valLoss', 'accuracy', 'valAccuracy', 'durationMs') AND v->>'value' IS NOT NULL
$$;

-- New epochs are merged into their blocks: counts add up, and the first minimum (maximum) is the least (greatest)
-- value, ties to the earliest epoch, so the merge does not depend on the order epochs arrive in.
CREATE FUNCTION metric_blocks_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "MetricBlock" AS b
    ("runId", metric, block, count, "firstEpoch", "lastEpoch", "minValue", "minEpoch", "maxValue", "maxEpoch")
  SELECT a."runId", p.metric, a.epoch / 16, count(*), min(a.epoch), max(a.epoch),
         (min(ARRAY[p.value, a.epoch]))[1], (min(ARRAY[p.value, a.epoch]))[2],
         (max(ARRAY[p.value, -a.epoch]))[1], -(max(ARRAY[p.value, -a.epoch]))[2]
  FROM added AS a CROSS JOIN LATERAL metric_block_points(a) AS p
  GROUP BY a."runId", p.metric, a.epoch / 16
  ON CONFLICT ("runId", metric, block) DO UPDATE SET
    count = b.count + EXCLUDED.count,
    "firstEpoch" = least(b."firstEpoch", EXCLUDED."firstEpoch"),
    "lastEpoch" = greatest(b."lastEpoch", EXCLUDED."lastEpoch"),
    "minValue" = CASE WHEN (EXCLUDED."minValue", EXCLUDED."minEpoch") < (b."minValue", b."minEpoch")
                      THEN EXCLUDED."minValue" ELSE b."minValue" END,
    "minEpoch" = CASE WHEN (EXCLUDED."minValue", EXCLUDED."minEpoch") < (b."minValue", b."minEpoch")
                      THEN EXCLUDED."minEpoch" ELSE b."minEpoch" END,
    "maxValue" = CASE WHEN (EXCLUDED."maxValue", -EXCLUDED."maxEpoch") > (b."maxValue", -b."maxEpoch")
                      THEN EXCLUDED."maxValue" ELSE b."maxValue" END,
    "maxEpoch" = CASE WHEN (EXCLUDED."maxValue", -EXCLUDED."maxEpoch") > (b."maxValue", -b."maxEpoch")
                      THEN EXCLUDED."maxEpoch" ELSE b."maxEpoch" END;
  RETURN NULL;
END $$;

-- The given blocks summed again from the epochs they hold now (none left: the block rows go).
CREATE FUNCTION metric_blocks_recount(runs UUID[], blocks INTEGER[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "MetricBlock" AS b USING unnest(runs, blocks) AS t("runId", block)
  WHERE b."runId" = t."runId" AND b.block = t.block;
  INSERT INTO "MetricBlock"
    ("runId", metric, block, count, "firstEpoch", "lastEpoch", "minValue", "minEpoch", "maxValue", "maxEpoch")
  SELECT a."runId", p.metric, a.epoch / 16, count(*), min(a.epoch), max(a.epoch),
         (min(ARRAY[p.value, a.epoch]))[1], (min(ARRAY[p.value, a.epoch]))[2],
         (max(ARRAY[p.value, -a.epoch]))[1], -(max(ARRAY[p.value, -a.epoch]))[2]
  FROM (SELECT DISTINCT * FROM unnest(runs, blocks)) AS t("runId", block)
  JOIN "EpochMetric" AS a ON a."runId" = t."runId" AND a.epoch BETWEEN t.block * 16 - 15 AND t.block * 16 + 15
                          AND a.epoch / 16 = t.block
  CROSS JOIN LATERAL metric_block_points(a) AS p
  GROUP BY a."runId", p.metric, a.epoch / 16;
END $$;

CREATE FUNCTION metric_blocks_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM metric_blocks_recount(array_agg(k."runId"), array_agg(k.block))
    FROM (SELECT "runId", epoch / 16 AS block FROM removed UNION SELECT "runId", epoch / 16 FROM added) AS k;
  ELSE
    PERFORM metric_blocks_recount(array_agg(k."runId"), array_agg(k.block))
    FROM (SELECT DISTINCT "runId", epoch / 16 AS block FROM removed) AS k;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION metric_blocks_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE "MetricBlock";
  RETURN NULL;
END $$;

CREATE TRIGGER "EpochMetric_blocks_insert" AFTER INSERT ON "EpochMetric"
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_add();
CREATE TRIGGER "EpochMetric_blocks_delete" AFTER DELETE ON "EpochMetric"
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_change();
CREATE TRIGGER "EpochMetric_blocks_update" AFTER UPDATE ON "EpochMetric"
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_change();
CREATE TRIGGER "EpochMetric_blocks_truncate" AFTER TRUNCATE ON "EpochMetric"
  FOR EACH STATEMENT EXECUTE FUNCTION metric_blocks_truncate();

-- The epochs stored before this migration.
SELECT metric_blocks_recount(array_agg(k."runId"), array_agg(k.block))
FROM (SELECT DISTINCT "runId", epoch / 16 AS block FROM "EpochMetric") AS k;
