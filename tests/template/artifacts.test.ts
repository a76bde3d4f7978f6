/**
 * Each function's artifact holds its own handler's bundle and nothing else, whatever was packaged
 * before in the same checkout: serverless-esbuild keeps its output folder (.esbuild) between runs,
 * and a stage with the simulators packaged first once left their bundles in every `local` zip.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packagedStack } from '../../local/cloud/package-cache';
import type { CfnTemplate } from './packaged-stack';

test.each(['ci-test', 'production', 'local'])(
  '%s: one artifact per function, holding only its own handler',
  async (stage) => {
    const dir = await packagedStack(stage);
    const template: CfnTemplate = JSON.parse(
      readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    const functions = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map(({ Properties }) => ({
        zip: path.basename(String(Properties?.Code?.S3Key)),
        module: String(Properties?.Handler).replace(/\.[^.]+$/, ''),
      }));

    const zips = readdirSync(dir).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(functions.map(({ zip }) => zip).sort());
    for (const { zip, module } of functions) {
      const entries = execFileSync('unzip', ['-Z1', path.join(dir, zip)], { encoding: 'utf8' })
        .trim()
        .split('\n');
      expect({ zip, entries: entries.sort() }).toEqual({
        zip,
        entries: [`${module}.mjs`, `${module}.mjs.map`],
      });
    }
  },
);
