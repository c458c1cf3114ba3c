/*
 * telemetry.c - flowsift-filter builds the consumer workers' telemetry
 * (cmd/enrich/telemetry.h), which flowsift-enrich keeps.
 */
#include "../enrich/telemetry.c"
