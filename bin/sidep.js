#!/usr/bin/env node
// The `sidep` command. The platform is TypeScript run through tsx's loader (no build step, so what runs is
// what is in the repo); worker threads get the same loader through pipeline/workers-pool.ts.
import { register } from 'tsx/esm/api'

register()
await import('../pipeline/cli.ts')
