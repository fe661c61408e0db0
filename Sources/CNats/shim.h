// The official NATS C client with its JetStream API (Debian libnats-dev).
#include <nats/nats.h>
