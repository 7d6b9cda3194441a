// Ralph's configuration for this repository (Ralph works on itself). A plain default-exported
// object is enough; settings from the environment (OPENAI_*, RALPH_*) override it.
export default {
  model: 'gpt-5.4-mini',
  executor: {
    verify: 'npm test',
    land: 'manual',
  },
};
