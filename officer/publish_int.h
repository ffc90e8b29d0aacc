/* publish_int.h - what publish.c and publish_lock.c share (not an interface: publish.h). */
#ifndef CTL_PUBLISH_INT_H
#define CTL_PUBLISH_INT_H

#include <sys/types.h>

#include "ctl.h"

/* Refuses DIR/NAME, which is not a regular file (mode m): CTL_E_POLICY. */
int publish_refuse(struct ctl_err *err, const char *dir, const char *name, mode_t m);
/* Opens an output directory (CTL_E_IO, with a hint when it does not exist). */
int publish_open_dir(const char *dir, int *dfd, struct ctl_err *err);

#endif
