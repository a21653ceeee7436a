import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql'
import { RequireScope } from '../../server/auth'
import { CreateApiKeyInput } from './apikey.input'
import type { AppContext } from '../../app'
import { ApiKeyScope, type Principal } from './apikey.scope'
import { ApiKeyService } from './apikey.service'
import { ApiKey, CreatedApiKey, Viewer } from './apikey.type'

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  constructor(private readonly service: ApiKeyService) {}

  @Query(() => Viewer, {
    description: 'What the caller may do, so a client can offer only that (the dashboard hides mutations).',
  })
  viewer(@Ctx() ctx: AppContext): Viewer {
    return viewerOf(ctx.principal)
  }

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

function viewerOf(principal: Principal): Viewer {
  return principal.kind === 'open'
    ? { authRequired: false, scope: ApiKeyScope.ADMIN, keyName: null }
    : { authRequired: true, scope: principal.scope, keyName: principal.name }
}
