-- CreateEnum
CREATE TYPE "DatasetKind" AS ENUM ('TABLE', 'TEXT');

-- CreateEnum
CREATE TYPE "SequenceArchitecture" AS ENUM ('RNN_GRU', 'WINDOW_MLP');

-- AlterEnum
ALTER TYPE "ModelFamily" ADD VALUE 'SEQUENCE';

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN     "kind" "DatasetKind" NOT NULL DEFAULT 'TABLE',
ADD COLUMN     "minCount" INTEGER,
ADD COLUMN     "text" TEXT,
ADD COLUMN     "vocabulary" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "architecture" "SequenceArchitecture",
ADD COLUMN     "contextLength" INTEGER;
