/* The version of mphybrid, written here and nowhere else: mphybrid.core
   exports it as _VERSION, every Lua module reads it from there, and
   spec/version_spec.lua checks that the rockspec and NEWS.md agree. */
#ifndef MPH_VERSION_H
#define MPH_VERSION_H

#define MPH_VERSION "0.1.0"

#endif
