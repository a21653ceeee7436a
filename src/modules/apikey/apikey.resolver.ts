import { Arg, ID, Mutation, Query, Resolver } from 'type-graphql'
import { RequireScope } from '../../server/auth'
import { CreateApiKeyInput } from './apikey.input'
import { ApiKeyScope } from './apikey.scope'
import { ApiKeyService } from './apikey.service'
import { ApiKey, CreatedApiKey } from './apikey.type'

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  constructor(private readonly service: ApiKeyService) {}

  @RequireScope(ApiKeyScope.ADMIN)
  @Query(() => [ApiKey], { description: 'Every key, revoked ones included, oldest first (ADMIN).' })
  apiKeys() {
    return this.service.list()
  }

  @RequireScope(ApiKeyScope.ADMIN)
  @Mutation(() => CreatedApiKey, { description: 'The secret is in the answer and nowhere else (ADMIN).' })
  createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput) {
    return this.service.create(input)
  }

  @RequireScope(ApiKeyScope.ADMIN)
  @Mutation(() => Boolean, { description: 'False when the key was revoked already (ADMIN).' })
  revokeApiKey(@Arg('id', () => ID) id: string) {
    return this.service.revoke(id)
  }
}
