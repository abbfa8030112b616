/** A small Pulsar binary-protocol client (no Mercure knowledge). */
export { PulsarClient, parseServiceUrl, type PulsarClientOptions } from './client.ts';
export { Producer, type ProducerOptions, type OutgoingMessage } from './producer.ts';
export { Consumer, type ConsumerOptions, type Message, type SubType } from './consumer.ts';
export { PulsarError } from './errors.ts';
export { compareIds, EARLIEST, LATEST, formatId, type MessageId } from './message-id.ts';
