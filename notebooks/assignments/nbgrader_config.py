# nbgrader's course configuration for adnb's graded assignments (run nbgrader from this folder).
c = get_config()  # noqa: F821 -- provided by nbgrader when it reads this file
c.CourseDirectory.course_id = "adnb"
