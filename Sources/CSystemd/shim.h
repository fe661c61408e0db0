// libsystemd's journal reader (Debian libsystemd-dev), for the session log's journal source.
#include <systemd/sd-journal.h>
