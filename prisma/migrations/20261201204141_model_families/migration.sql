-- CreateEnum
CREATE TYPE "ModelFamily" AS ENUM ('MLP', 'VAE');

-- CreateEnum
CREATE TYPE "Likelihood" AS ENUM ('GAUSSIAN', 'BERNOULLI');

-- AlterEnum
ALTER TYPE "Task" ADD VALUE 'UNSUPERVISED';

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN     "factorNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "factors" BYTEA,
ADD COLUMN     "imageShape" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
ALTER COLUMN "targetName" DROP NOT NULL;

-- AlterTable
ALTER TABLE "EpochMetric" ADD COLUMN     "values" JSONB NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "beta" DOUBLE PRECISION,
ADD COLUMN     "family" "ModelFamily" NOT NULL DEFAULT 'MLP',
ADD COLUMN     "finalMetrics" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "latentDim" INTEGER,
ADD COLUMN     "likelihood" "Likelihood";

-- Backfill: epochs stored before named metrics get their values from the fixed columns.
UPDATE "EpochMetric" SET "values" = COALESCE((
  SELECT jsonb_agg(jsonb_build_object('name', t.name, 'value', t.value) ORDER BY t.ord)
  FROM (VALUES (1, 'loss', "loss"), (2, 'valLoss', "valLoss"), (3, 'accuracy', "accuracy"),
               (4, 'valAccuracy', "valAccuracy")) AS t(ord, name, value)
  WHERE t.value IS NOT NULL), '[]'::jsonb);

UPDATE "Run" SET "finalMetrics" = jsonb_strip_nulls(jsonb_build_object(
  'loss', "finalLoss", 'valLoss', "finalValLoss", 'accuracy', "finalAccuracy", 'valAccuracy', "finalValAccuracy"))
WHERE "lastEpoch" > 0;
