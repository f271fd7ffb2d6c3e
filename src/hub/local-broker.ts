import { Injectable } from '@nestjs/common';
import type { Broker, Delivery } from './broker';

/** The broker of a single process: a publish is delivered locally, synchronously, in call order. */
@Injectable()
export class LocalBroker implements Broker {
  private receive: (delivery: Delivery) => void = () => undefined;

  publish(delivery: Delivery): void {
    this.receive(delivery);
  }

  subscribe(receive: (delivery: Delivery) => void): void {
    this.receive = receive;
  }
}
