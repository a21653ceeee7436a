import { Arg, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql'
import { pageArgs, toConnection } from '../common/pagination'
import {
  CreateDatasetInput,
  GenerateDatasetInput,
  ImportCsvDatasetInput,
  ImportTextDatasetInput,
} from './dataset.input'
import { DatasetService } from './dataset.service'
import { Dataset, DatasetConnection, DatasetRow } from './dataset.type'

@Resolver(() => Dataset)
export class DatasetResolver {
  constructor(private readonly service: DatasetService) {}

  @Query(() => Dataset, { nullable: true })
  dataset(@Arg('id', () => ID) id: string) {
    return this.service.get(id)
  }

  @Query(() => DatasetConnection, { description: 'Newest first.' })
  async datasets(
    @Arg('first', () => Int, { nullable: true, description: 'At most 100; default 20.' })
    first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return toConnection(await this.service.list(pageArgs(first, after)))
  }

  @FieldResolver(() => [DatasetRow], {
    description:
      'A page of the stored rows of a table (not of a TEXT corpus), in their order: first rows (1 to 100, ' +
      'default 10) from row offset (0 to rowCount, default 0).',
  })
  preview(
    @Root() dataset: Dataset,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('offset', () => Int, { nullable: true }) offset: number | null,
  ) {
    return this.service.preview(dataset, first, offset)
  }

  @Mutation(() => Dataset, { description: 'Same name and content returns the existing version.' })
  createDataset(@Arg('input', () => CreateDatasetInput) input: CreateDatasetInput) {
    return this.service.create(input)
  }

  @Mutation(() => Dataset)
  importCsvDataset(@Arg('input', () => ImportCsvDatasetInput) input: ImportCsvDatasetInput) {
    return this.service.importCsv(input)
  }

  @Mutation(() => Dataset, {
    description: 'A TEXT dataset (SEQUENCE runs). Same name and content returns the existing version.',
  })
  importTextDataset(@Arg('input', () => ImportTextDatasetInput) input: ImportTextDatasetInput) {
    return this.service.importText(input)
  }

  @Mutation(() => Dataset)
  generateDataset(@Arg('input', () => GenerateDatasetInput) input: GenerateDatasetInput) {
    return this.service.generate(input)
  }

  @Mutation(() => Boolean, { description: 'Refused with CONFLICT while runs or sweeps use the dataset.' })
  deleteDataset(@Arg('id', () => ID) id: string) {
    return this.service.delete(id)
  }
}
