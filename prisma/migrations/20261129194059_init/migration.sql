-- CreateEnum
CREATE TYPE "Task" AS ENUM ('BINARY_CLASSIFICATION', 'REGRESSION');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "Activation" AS ENUM ('RELU', 'TANH', 'SIGMOID', 'ELU');

-- CreateEnum
CREATE TYPE "Optimizer" AS ENUM ('ADAM', 'SGD', 'RMSPROP');

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('RUNNING', 'FINISHED', 'CANCELLED', 'FAILED');

-- CreateEnum
CREATE TYPE "SweepMethod" AS ENUM ('GRID', 'RANDOM');

-- CreateEnum
CREATE TYPE "Goal" AS ENUM ('MINIMIZE', 'MAXIMIZE');

-- CreateTable
CREATE TABLE "Experiment" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dataset" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "task" "Task" NOT NULL,
    "featureNames" TEXT[],
    "targetName" TEXT NOT NULL,
    "rowCount" INTEGER NOT NULL,
    "contentHash" TEXT NOT NULL,
    "featureStats" JSONB NOT NULL,
    "features" BYTEA NOT NULL,
    "targets" BYTEA NOT NULL,
    "source" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "experimentId" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "sweepId" UUID,
    "hiddenLayers" INTEGER[],
    "activation" "Activation" NOT NULL,
    "epochs" INTEGER NOT NULL,
    "batchSize" INTEGER NOT NULL,
    "learningRate" DOUBLE PRECISION NOT NULL,
    "optimizer" "Optimizer" NOT NULL,
    "validationSplit" DOUBLE PRECISION NOT NULL,
    "seed" INTEGER NOT NULL,
    "tags" TEXT[],
    "explainMethods" TEXT[],
    "idempotencyKey" TEXT,
    "backend" TEXT,
    "error" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "workerId" TEXT,
    "heartbeatAt" TIMESTAMPTZ(3),
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "lastEpoch" INTEGER NOT NULL DEFAULT 0,
    "finalLoss" DOUBLE PRECISION,
    "finalValLoss" DOUBLE PRECISION,
    "bestValLoss" DOUBLE PRECISION,
    "bestEpoch" INTEGER,
    "finalAccuracy" DOUBLE PRECISION,
    "finalValAccuracy" DOUBLE PRECISION,

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EpochMetric" (
    "runId" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "loss" DOUBLE PRECISION NOT NULL,
    "valLoss" DOUBLE PRECISION,
    "accuracy" DOUBLE PRECISION,
    "valAccuracy" DOUBLE PRECISION,
    "durationMs" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EpochMetric_pkey" PRIMARY KEY ("runId","epoch")
);

-- CreateTable
CREATE TABLE "TrainedModel" (
    "id" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "topology" JSONB NOT NULL,
    "weightSpecs" JSONB NOT NULL,
    "weights" BYTEA NOT NULL,
    "normalization" JSONB NOT NULL,
    "parameterCount" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrainedModel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Explanation" (
    "id" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "methods" TEXT[],
    "result" JSONB NOT NULL,
    "computeMs" DOUBLE PRECISION NOT NULL,
    "cost" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Explanation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Sweep" (
    "id" UUID NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'RUNNING',
    "method" "SweepMethod" NOT NULL,
    "experimentId" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "config" JSONB NOT NULL,
    "metric" TEXT NOT NULL,
    "goal" "Goal" NOT NULL,
    "runCap" INTEGER,
    "maxConcurrent" INTEGER NOT NULL DEFAULT 1,
    "seed" INTEGER NOT NULL,
    "bestRunId" UUID,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_name_key" ON "Experiment"("name");

-- CreateIndex
CREATE INDEX "Dataset_createdAt_id_idx" ON "Dataset"("createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_name_version_key" ON "Dataset"("name", "version");

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_name_contentHash_key" ON "Dataset"("name", "contentHash");

-- CreateIndex
CREATE UNIQUE INDEX "Run_idempotencyKey_key" ON "Run"("idempotencyKey");

-- CreateIndex
CREATE INDEX "Run_experimentId_createdAt_idx" ON "Run"("experimentId", "createdAt");

-- CreateIndex
CREATE INDEX "Run_status_createdAt_idx" ON "Run"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Run_createdAt_id_idx" ON "Run"("createdAt", "id");

-- CreateIndex
CREATE INDEX "Run_datasetId_idx" ON "Run"("datasetId");

-- CreateIndex
CREATE INDEX "Run_sweepId_idx" ON "Run"("sweepId");

-- CreateIndex
CREATE UNIQUE INDEX "TrainedModel_runId_key" ON "TrainedModel"("runId");

-- CreateIndex
CREATE UNIQUE INDEX "Explanation_runId_key" ON "Explanation"("runId");

-- CreateIndex
CREATE INDEX "Sweep_status_createdAt_idx" ON "Sweep"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Sweep_createdAt_id_idx" ON "Sweep"("createdAt", "id");

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EpochMetric" ADD CONSTRAINT "EpochMetric_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrainedModel" ADD CONSTRAINT "TrainedModel_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Explanation" ADD CONSTRAINT "Explanation_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
