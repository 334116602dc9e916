import { defineConfig } from 'vitest/config';

// Unit tests are fast and isolated; end-to-end tests run real ansible-playbook
// against the built collection (installed once by tests/e2e/global-setup.ts).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: e2e files start real servers and playbooks; more parallelism only adds noise.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
