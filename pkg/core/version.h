/*
 * version.h - the release of flowsift that every program reports with
 * --version.  All programs of one build carry the same version, so a report
 * from an operator names the release of the whole pipeline.
 */
#ifndef FS_CORE_VERSION_H
#define FS_CORE_VERSION_H

#define FS_VERSION "0.1.0"

#endif
