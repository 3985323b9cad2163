#include "cbes/testkit/consul_agent.hpp"
