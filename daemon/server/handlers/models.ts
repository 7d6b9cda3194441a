/** models.list: the model table and the provider settings in force (never the key). */
import type { ConfigService } from '../../config/config-service.ts';
import type { HandlerTable } from '../context.ts';

export function modelHandlers(config: ConfigService): Pick<HandlerTable, 'models.list'> {
  return {
    'models.list': () => ({ models: config.models().rows(), provider: config.providerSettings() }),
  };
}
