// libsystemd's journal reader (Debian libsystemd-dev), for the session log's journal source.
// _GNU_SOURCE as CLinux has it: both modules must see the same system headers.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <systemd/sd-journal.h>
