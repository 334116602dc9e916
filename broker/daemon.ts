export async function runBroker(): Promise<void> {
  throw new Error('not yet');
}
