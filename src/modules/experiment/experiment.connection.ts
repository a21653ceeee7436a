import { ObjectType } from 'type-graphql'
import { Connection } from '../common/pagination'
import { Experiment } from './experiment.type'

@ObjectType()
export class ExperimentConnection extends Connection('Experiment', Experiment) {}
