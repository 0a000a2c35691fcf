/** @cyclonedx/cyclonedx-library, for its JSON validator in tests (needs the ajv dev dependencies). */
export * as CycloneDX from '@cyclonedx/cyclonedx-library';
