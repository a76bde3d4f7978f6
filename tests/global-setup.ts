/**
 * Packages the stack once, before the first test of a project that needs it: the template tests read
 * stage `ci-test`, the local cloud runs stage `local`. The package cache (local/cloud/package-cache.ts)
 * keys each package by its sources, so the tests' own `packagedStack()` calls then find it at once.
 */
import type { Config } from '@jest/types';
import { packagedStack } from '../local/cloud/package-cache';

export default async function packageOnce(_global: Config.GlobalConfig, project: Config.ProjectConfig) {
  const stages = (project.globals.PACKAGED_STAGES as string[] | undefined) ?? [];
  for (const stage of stages) await packagedStack(stage);
}
