# gov_target_defaults(<target>): warnings and sanitizer flags every Governor target uses.
function(gov_target_defaults target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion-null
        $<$<BOOL:${GOV_WERROR}>:-Werror>)
    if(GOV_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                               -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
endfunction()

# gov_library(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...]):
# a static library gov_<name> with the alias gov::<name> and include/ as its
# public include folder.
function(gov_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(gov_${name} STATIC ${ARG_SOURCES})
    add_library(gov::${name} ALIAS gov_${name})
    target_include_directories(gov_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(gov_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    gov_target_defaults(gov_${name})
endfunction()

# gov_test(<name> SOURCES ... DEPS ... [LIVE] [TIMEOUT s]): a GoogleTest binary whose
# tests are discovered into ctest, labelled "unit"; with LIVE labelled "live",
# RUN_SERIAL (nothing else of the suite runs beside a live test, see
# tests/CMakeLists.txt) and requiring the "live-trees" fixture, whose cleanup test
# removes what a killed live test left on the host (tests/live/CMakeLists.txt).
function(gov_test name)
    cmake_parse_arguments(ARG "LIVE" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
    # Helpers shared by the tests (tests/support).
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
    target_compile_definitions(${name} PRIVATE
        GOV_SOURCE_DIR="${PROJECT_SOURCE_DIR}" GOV_BINARY_DIR="${PROJECT_BINARY_DIR}")
    gov_target_defaults(${name})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 120)
    endif()
    if(ARG_LIVE)
        target_compile_definitions(${name} PRIVATE GOV_LIVE_TREES_DIR="${GOV_LIVE_TREES_DIR}")
        set(props LABELS live RUN_SERIAL TRUE FIXTURES_REQUIRED live-trees)
    else()
        set(props LABELS unit)
    endif()
    gtest_discover_tests(${name} PROPERTIES ${props} TIMEOUT ${ARG_TIMEOUT}
                         DISCOVERY_TIMEOUT 60)
endfunction()
