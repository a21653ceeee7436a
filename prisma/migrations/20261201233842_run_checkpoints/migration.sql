-- CreateTable
CREATE TABLE "RunCheckpoint" (
    "runId" UUID NOT NULL,
    "family" "ModelFamily" NOT NULL,
    "epoch" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "meta" JSONB NOT NULL,
    "weightSpecs" JSONB NOT NULL,
    "weights" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunCheckpoint_pkey" PRIMARY KEY ("runId")
);

-- AddForeignKey
ALTER TABLE "RunCheckpoint" ADD CONSTRAINT "RunCheckpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
